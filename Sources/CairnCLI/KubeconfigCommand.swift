import ArgumentParser
import CairnAPI
import CairnClient
import CairnCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `cairn kubeconfig`: the admin kubeconfig for the daemon's HTTPS listener, from the daemon itself
/// (it holds the CA and knows where it listens), so `kubectl --kubeconfig F ...` needs nothing else.
struct KubeconfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubeconfig",
        abstract: "Print or write a kubeconfig for kubectl (cluster, user and context named cairn).",
        discussion: """
        The cluster entry carries the daemon's CA; the user authenticates with the admin client \
        certificate (CN=cairn-admin, O=system:masters). The daemon must serve HTTPS (cairn serve --listen \
        HOST:PORT). The file is written with mode 0600: it holds a private key.
        """)
    @OptionGroup var client: ClientOptions
    @Option(help: "The server URL to put in the kubeconfig (default: the daemon's --listen address, e.g. https://127.0.0.1:6443).")
    var server: String?
    @Option(name: [.short, .customLong("output")], help: "Write the kubeconfig to FILE instead of printing it.")
    var output: String?

    func run() async {
        await runClient {
            var query: [String: String] = [:]
            if let server { query["server"] = server }
            let data = try await client.withClient { try await $0.call("GET", CairnPath.kubeconfig, query: query) }
            guard let output else {
                FileHandle.standardOutput.write(data)
                return
            }
            let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw CLIError("cannot write \(output): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            fchmod(fd, 0o600)
            let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == data.count else { throw CLIError("cannot write \(output): \(String(cString: strerror(errno)))") }
            var stderr = FileHandle.standardError
            print("Wrote the kubeconfig to \(output); use it with: kubectl --kubeconfig \(output) get nodes", to: &stderr)
        }
    }
}
