from posekit.cli import main

raise SystemExit(main())
