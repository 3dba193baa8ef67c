from windhash_cli.main import main

main()
