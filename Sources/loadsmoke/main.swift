import Foundation
import LoadsmokeCLI

exit(Loadsmoke.main())
