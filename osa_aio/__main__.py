from osa_aio.cli import main

main()
