import Testing
@testable import GGUF
