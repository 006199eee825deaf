from passhub_xapi.cli import main

main()
