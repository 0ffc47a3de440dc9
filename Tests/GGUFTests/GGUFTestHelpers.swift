import GGUF
import ShimmyTestSupport
import Testing

/// Parses `bytes` and checks it fails with exactly `expected`, printing what it got instead.
func expectGGUFError(_ bytes: [UInt8], _ expected: GGUFError,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let file = try parseGGUF(bytes)
        let found = "\(file.metadata.count) keys, \(file.tensors.count) tensors"
        Issue.record("parsed without error (\(found)); expected \(expected)", sourceLocation: sourceLocation)
    } catch {
        #expect(error == expected, "got: \(error)\nexpected: \(expected)", sourceLocation: sourceLocation)
    }
}

/// The sample file and its layout (see `ShimmyTestSupport.sampleGGUFMetadata`).
func sampleFile() throws -> (bytes: [UInt8], layout: GGUFLayout) {
    try makeGGUFWithLayout()
}

/// A key's offsets in `layout`, or a recorded issue.
func keyLayout(_ layout: GGUFLayout, _ key: String) throws -> GGUFLayout.KeyValue {
    try #require(layout.keyValues[key], "no key '\(key)' in layout")
}

/// A tensor's offsets in `layout`, or a recorded issue.
func tensorLayout(_ layout: GGUFLayout, _ name: String) throws -> GGUFLayout.Tensor {
    try #require(layout.tensors[name], "no tensor '\(name)' in layout")
}
