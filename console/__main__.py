from console.webapp import main

main()
