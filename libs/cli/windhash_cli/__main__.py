from windhash_cli.main import app

app(prog_name="windhash")
