"""The consumer runtime every windhash consumer runs on: a transactional consumer (`consumer`) storing its
Kafka positions with its effects (`positions`), units of work as Protocols with PostgreSQL implementations
(`unit_of_work`) and in-memory fakes (`fakes`), and the same metrics for every consumer (`metrics`)."""
