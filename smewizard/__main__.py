from smewizard.cli import main

raise SystemExit(main())
