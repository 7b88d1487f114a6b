from pypole_gql.cli import main

raise SystemExit(main())
