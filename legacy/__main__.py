from legacy.bot import main

main()
