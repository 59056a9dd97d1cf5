from .commands.cli import main

main(prog_name="celesto-tui")
