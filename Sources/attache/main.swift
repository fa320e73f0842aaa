import Attache
import Foundation

exit(AttacheCLI.main(Array(CommandLine.arguments.dropFirst())))
