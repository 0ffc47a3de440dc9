import Foundation
import ShimmyTestSupport
import Testing

@Suite("shimmy bench")
struct BenchCommandTests {
    @Test("--json reports each test's samples; -d names the depth and starts after it")
    func jsonWithDepth() throws {
        let result = try runShimmy(["bench", "-m", TestPaths.defaultModel, "-p", "8", "-n", "4", "-d", "20",
                                    "-t", "1", "-r", "2", "--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let rows = object?["results"] as? [[String: Any]] ?? []
        #expect(rows.compactMap { $0["test"] as? String } == ["pp8 @ d20", "tg4 @ d20"])
        for row in rows {
            let samples = row["samples"] as? [Double] ?? []
            #expect(samples.count == 2 && samples.allSatisfy { $0 > 0 && $0.isFinite }, "\(row)")
            #expect(row["threads"] as? Int == 1)
            #expect(row["depth"] as? Int == 20, "the cache before the timed part: \(row)")
        }
    }

    @Test("without -t, the threads every command uses: SHIMMY_THREADS, else the cores")
    func defaultThreads() throws {
        let result = try runShimmy(["bench", "-m", TestPaths.defaultModel, "-p", "8", "-n", "0", "-r", "1", "--json"],
                                   environment: ["SHIMMY_THREADS": "5"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let rows = object?["results"] as? [[String: Any]] ?? []
        #expect(rows.count == 1 && rows.allSatisfy { $0["threads"] as? Int == 5 }, "\(rows)")
    }

    @Test("the table has one row per test, the test column as wide as its names")
    func table() throws {
        let result = try runShimmy(["bench", "-m", TestPaths.defaultModel, "-p", "0", "-n", "2", "-d", "4",
                                    "-t", "1", "-r", "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 3, "stdout:\n\(result.stdout)")
        #expect(lines.last?.contains("| tg2 @ d4 ") == true, "stdout:\n\(result.stdout)")
        #expect(Set(lines.map { $0.count }).count == 1, "ragged table:\n\(result.stdout)")
    }

    @Test("negative counts fail with a message", arguments: [["--d=-1"], ["--p=-1"], ["-r", "0"]])
    func badCounts(_ arguments: [String]) throws {
        let result = try runShimmy(["bench", "-m", TestPaths.defaultModel, "-t", "1"] + arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains("must"), "stderr: \(result.stderr)")
    }
}
