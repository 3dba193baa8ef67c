from windhash_cli.main import app

app()
