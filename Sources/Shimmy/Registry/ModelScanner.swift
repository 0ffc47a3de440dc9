import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds GGUF models in one folder.
///
/// A folder holding `manifests/` and `blobs/` is an Ollama store: each manifest at `manifests/<host>/<namespace>/
/// <name>/<tag>` names its model layer's blob, and the model is called `name:tag` (`namespace/name:tag` outside the
/// `library` namespace). Any other folder is walked for `*.gguf` files (symlinks followed, as in the Hugging Face
/// cache's `snapshots/`), and each model is named by its file stem.
enum ModelScanner {
    /// How deep the walk goes below a folder (`models--org--name/snapshots/<rev>/sub/file.gguf` is 5).
    static let maximumDepth = 6
    /// How many directory entries one folder's walk looks at before it gives up (a folder like `/`).
    static let maximumEntries = 20_000
    /// Manifests larger than this are not Ollama manifests.
    static let maximumManifestBytes = 1 << 20
    /// The media type of the layer that holds the GGUF weights.
    static let ollamaModelMediaType = "application/vnd.ollama.image.model"

    /// The models found in `folder`, in a stable order (sorted by path within the folder).
    static func scan(_ folder: String) -> [ModelDescriptor] {
        guard isDirectory(folder) else { return [] }
        if isDirectory(folder + "/manifests") && isDirectory(folder + "/blobs") {
            return scanOllama(folder)
        }
        var found: [ModelDescriptor] = []
        var budget = maximumEntries
        walk(folder, depth: 0, budget: &budget, into: &found)
        return found
    }

    // MARK: - GGUF files

    private static func walk(_ dir: String, depth: Int, budget: inout Int, into found: inout [ModelDescriptor]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        var ordered = names.sorted()
        // a Hugging Face cache keeps old revisions beside the current one: `refs/main`'s comes first, so its files
        // win their names
        if dir.hasSuffix("/snapshots"), let main = mainRevision(ofSnapshots: dir), let index = ordered.firstIndex(of: main) {
            ordered.insert(ordered.remove(at: index), at: 0)
        }
        for name in ordered {
            guard budget > 0 else { return }
            budget -= 1
            if name.hasPrefix(".") { continue }
            let path = dir + "/" + name
            guard let info = fileInfo(path) else { continue }
            if info.isDirectory {
                // directories are entered only when they are not symlinks, so a link cycle cannot trap the walk
                if depth < maximumDepth && !isSymlink(path) && name != "blobs" {
                    walk(path, depth: depth + 1, budget: &budget, into: &found)
                }
            } else if info.isRegular && name.lowercased().hasSuffix(".gguf") && name.count > 5 {
                let stem = String(name.dropLast(5))
                found.append(ModelDescriptor(name: stem, path: path, sizeBytes: info.size, modified: info.modified))
            }
        }
    }

    /// The revision `refs/main` names beside a Hugging Face cache's `snapshots` folder.
    private static func mainRevision(ofSnapshots dir: String) -> String? {
        let ref = String(dir.dropLast("/snapshots".count)) + "/refs/main"
        guard let info = fileInfo(ref), info.isRegular, info.size <= 256,
              let data = FileManager.default.contents(atPath: ref) else { return nil }
        let revision = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return revision.isEmpty || revision.contains("/") ? nil : revision
    }

    // MARK: - Ollama store

    private struct Manifest: Decodable {
        struct Layer: Decodable {
            var mediaType: String
            var digest: String
        }
        var layers: [Layer]
    }

    private static func scanOllama(_ root: String) -> [ModelDescriptor] {
        var found: [ModelDescriptor] = []
        let manifests = root + "/manifests"
        // manifests/<host>/<namespace>/<name>/<tag>, whatever hosts exist
        for host in subdirectories(manifests) {
            for namespace in subdirectories(manifests + "/" + host) {
                for model in subdirectories(manifests + "/" + host + "/" + namespace) {
                    let modelDir = [manifests, host, namespace, model].joined(separator: "/")
                    let tags = (try? FileManager.default.contentsOfDirectory(atPath: modelDir)) ?? []
                    for tag in tags.sorted() where !tag.hasPrefix(".") {
                        let name = (namespace == "library" ? "" : namespace + "/") + model + ":" + tag
                        if let d = ollamaModel(name: name, manifest: modelDir + "/" + tag, root: root) {
                            found.append(d)
                        }
                    }
                }
            }
        }
        return found
    }

    private static func ollamaModel(name: String, manifest: String, root: String) -> ModelDescriptor? {
        guard let info = fileInfo(manifest), info.isRegular, info.size <= Int64(maximumManifestBytes),
              let data = FileManager.default.contents(atPath: manifest),
              let parsed = try? JSONDecoder().decode(Manifest.self, from: data),
              let layer = parsed.layers.first(where: { $0.mediaType == ollamaModelMediaType }),
              let blobName = blobFileName(digest: layer.digest)
        else { return nil }
        let blob = root + "/blobs/" + blobName
        guard let blobInfo = fileInfo(blob), blobInfo.isRegular, hasGGUFMagic(blob) else { return nil }
        return ModelDescriptor(name: name, path: blob, sizeBytes: blobInfo.size, modified: info.modified)
    }

    /// `sha256:abc…` → `sha256-abc…`; nil unless the algorithm is lowercase letters and digits and the hash hex,
    /// so a digest can never name a file outside `blobs/`.
    static func blobFileName(digest: String) -> String? {
        let parts = digest.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, parts[1].count <= 256,
              parts[0].utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }),
              parts[1].utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { return nil }
        return parts[0] + "-" + parts[1]
    }

    // MARK: - Files

    struct FileInfo {
        var isDirectory: Bool
        var isRegular: Bool
        var size: Int64
        var modified: Date
    }

    /// `stat` of `path`, following symlinks.
    static func fileInfo(_ path: String) -> FileInfo? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        let type = st.st_mode & S_IFMT
        #if canImport(Darwin)
        let seconds = Double(st.st_mtimespec.tv_sec)
        #else
        let seconds = Double(st.st_mtim.tv_sec)
        #endif
        // a file system may hold any 64-bit time (tmpfs, btrfs, an archive's): kept within the years 1970 to 9999
        return FileInfo(isDirectory: type == S_IFDIR, isRegular: type == S_IFREG, size: Int64(st.st_size),
                        modified: Date(timeIntervalSince1970: min(max(seconds, 0), 253_402_300_799)))
    }

    static func isDirectory(_ path: String) -> Bool { fileInfo(path)?.isDirectory ?? false }

    private static func isSymlink(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
    }

    private static func subdirectories(_ dir: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") && isDirectory(dir + "/" + $0) }
    }

    /// Whether the file starts with the GGUF magic bytes.
    static func hasGGUFMagic(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 4)) ?? Data()
        return head == Data("GGUF".utf8)
    }
}
