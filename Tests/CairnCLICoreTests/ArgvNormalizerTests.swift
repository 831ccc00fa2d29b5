@testable import CairnCLICore
import Testing

/// kubectl's spellings, rewritten once before parsing.
struct ArgvNormalizerTests {
    static let cases: [(Int, [String], [String])] = [
        (1, ["get", "pods", "-owide"], ["get", "pods", "-o", "wide"]),
        (2, ["get", "pods", "-ojson"], ["get", "pods", "-o", "json"]),
        (3, ["get", "pods", "-oname"], ["get", "pods", "-o", "name"]),
        (4, ["get", "pods", "-o=json"], ["get", "pods", "-o", "json"]),
        (5, ["get", "pods", "-lapp=web"], ["get", "pods", "-l", "app=web"]),
        (6, ["get", "pvc", "-nteam-a"], ["get", "pvc", "-n", "team-a"]),
        (7, ["-n", "team-a", "get", "pvc"], ["get", "-n", "team-a", "pvc"]),
        (8, ["-nteam-a", "get", "pvc"], ["get", "-n", "team-a", "pvc"]),
        (9, ["--socket", "/s", "get", "pods"], ["get", "--socket", "/s", "pods"]),
        (10, ["--namespace=x", "get", "pods"], ["get", "--namespace=x", "pods"]),
        (11, ["exec", "-it", "db-0", "--", "sh"], ["exec", "-i", "-t", "db-0", "--", "sh"]),
        (12, ["exec", "db-0", "--", "ls", "-la", "-owide"], ["exec", "db-0", "--", "ls", "-la", "-owide"]),
        (13, ["-n", "ns", "verify", "retention", "sts", "x"], ["verify", "retention", "-n", "ns", "sts", "x"]),
        (14, ["get", "pods", "-o", "jsonpath={.items[*].metadata.name}"], ["get", "pods", "-o", "jsonpath={.items[*].metadata.name}"]),
        (15, ["get", "pods", "-ojsonpath={.items[0].metadata.labels.app}"], ["get", "pods", "-o", "jsonpath={.items[0].metadata.labels.app}"]),
        (16, ["scale", "sts", "x", "--replicas", "-1"], ["scale", "sts", "x", "--replicas", "-1"]),
        (17, ["apply", "-f", "-"], ["apply", "-f", "-"]),
        (18, ["get", "pods", "-Aowide"], ["get", "pods", "-A", "-o", "wide"]),
        (19, ["exec", "-ic", "app", "db-0", "--", "sh"], ["exec", "-i", "-c", "app", "db-0", "--", "sh"]),
        (20, ["--help"], ["--help"]),
        (21, ["exec-sandbox", "--mounts", "[]", "-x", "--", "true"], ["exec-sandbox", "--mounts", "[]", "-x", "--", "true"]),
        (22, ["-l", "a=b", "get", "pods"], ["-l", "a=b", "get", "pods"]),
        (23, ["get", "pods", "-l", "tier!=cache"], ["get", "pods", "-l", "tier!=cache"]),
    ]

    @Test(arguments: cases)
    func normalizes(_ n: Int, _ input: [String], _ expected: [String]) throws {
        #expect(try ArgvNormalizer.cairn.normalize(input) == expected, "case \(n)")
    }

    static let refused: [(Int, [String])] = [
        (1, ["exec", "db-0", "ls"]),
        (2, ["exec", "-it", "db-0", "sh", "-c", "true"]),
        (3, ["-n", "x", "exec", "pod/db-0", "ls", "--", "more"]),
    ]

    @Test(arguments: refused)
    func refusesExecWithoutDashDash(_ n: Int, _ input: [String]) {
        #expect(throws: CommandLineError("exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\nSee 'cairn exec -h' for help and examples"),
                "case \(n)") { try ArgvNormalizer.cairn.normalize(input) }
    }
}

struct UsageMessageTests {
    static let cases: [(Int, String, String)] = [
        (1, "Unknown option '--bogus'", "unknown flag: --bogus"),
        (2, "Unknown option '-x'", "unknown shorthand flag: 'x' in -x"),
        (3, "Missing value for '-o <output>'", "flag needs an argument: 'o' in -o"),
        (4, "Missing value for '--sort-by <sort-by>'", "flag needs an argument: --sort-by"),
        (5, "Unexpected argument 'x'", "unexpected argument 'x'"),
        (6, "The value 'bogus' is invalid for '--log-level <log-level>'. Please provide one of the following:\n  - trace\n  - debug\n  - info",
         "invalid argument \"bogus\" for \"--log-level\" flag: must be one of trace, debug, info"),
        (7, "The value 'x' is invalid for '--replicas <replicas>'", "invalid argument \"x\" for \"--replicas\" flag"),
    ]

    @Test(arguments: cases)
    func speaksKubectl(_ n: Int, _ message: String, _ expected: String) {
        #expect(UsageMessage.kubectlStyle(message) == expected, "case \(n)")
    }

    @Test func namesTheSubcommand() {
        let commands = ["get": [], "verify": ["retention"]]
        #expect(UsageMessage.commandPath(["get", "-o", "x", "pods"], commands: commands) == ["get"])
        #expect(UsageMessage.commandPath(["verify", "retention", "-n", "x"], commands: commands) == ["verify", "retention"])
        #expect(UsageMessage.commandPath(["--bogus"], commands: commands) == [])
    }
}

struct TabWriterTests {
    /// Go's text/tabwriter with kubectl describe's settings (padding 2).
    static let cases: [(Int, String, String)] = [
        (1, "Name:\tx\nNamespace:\tdefault\n", "Name:       x\nNamespace:  default\n"),
        // A line without a tab ends the block: the next block aligns on its own.
        (2, "A:\t1\nSection:\n  Longer Key:\t2\n  K:\t3\n", "A:  1\nSection:\n  Longer Key:  2\n  K:           3\n"),
        // Continuation lines with an empty first cell stay in the column.
        (3, "Labels:\ta=b\n\tc=d\nAnnotations:\t<none>\n", "Labels:       a=b\n              c=d\nAnnotations:  <none>\n"),
        // Nested columns: the second column is sized only over the lines that have it.
        (4, "  Type\tStatus\n    Ready \tTrue \n    PodScheduled \tTrue \n", "  Type             Status\n    Ready          True \n    PodScheduled   True \n"),
        // An empty last cell still pads the column before it.
        (5, "IP:\t\nNode:\tn1\n", "IP:    \nNode:  n1\n"),
        (6, "no tabs at all\n", "no tabs at all\n"),
        (7, "é\tx\nab\ty\n", "é   x\nab  y\n"),
    ]

    @Test(arguments: cases)
    func laysOutAsGo(_ n: Int, _ input: String, _ expected: String) {
        #expect(TabWriter.layout(input, minWidth: 0, padding: 2) == expected, "case \(n)")
    }

    @Test func tablesPadThreeWithAMinimumOfSix() {
        #expect(Printers.table(["A", "NAME"], [["x", "y"]]) == "A     NAME\nx     y\n")
    }

    @Test func flushEndsBlocks() {
        var w = TabWriter.describe
        w.write("A:\t1\n")
        w.flush()
        w.write("Longer:\t2\n")
        #expect(w.finish() == "A:  1\nLonger:  2\n")
    }
}
