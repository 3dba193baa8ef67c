# One image for every windhash service; docker-compose.yml picks the service with the command.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md ./
COPY libs ./libs
COPY services ./services
COPY cli ./cli
RUN pip install --no-cache-dir --no-deps .
USER nobody
ENTRYPOINT ["windhash"]
