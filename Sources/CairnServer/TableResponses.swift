import CairnAPI
import CairnAPIMachinery
import CairnCore
import CairnStore
import Foundation

/// GETs answered as meta.k8s.io Tables (`kubectl get` asks for them): a list, one object, or each
/// event of a watch, with kube-apiserver's columns from CairnAPIMachinery.Tables.
enum TableResponses {
    /// The VERSION column of a Node: the kubelet that runs it is this daemon.
    static var context: TableContext { TableContext(now: Date(), kubeletVersion: CairnVersion.info.gitVersion) }

    static func list(_ list: ListResult, kind: Kind, options: TableOptions, version: String) throws(Status) -> APIResponse {
        var objects: [any KubeObject] = []
        objects.reserveCapacity(list.items.count)
        for item in list.items { objects.append(try typed(kind, item.body)) }
        let meta = ListMeta(resourceVersion: String(list.resourceVersion), continueToken: list.next?.encoded,
                            remainingItemCount: list.remainingItemCount.map(Int64.init))
        let table = Tables.table(kind: kind, objects: objects, list: meta, options: options, context: context, version: version)
        return .json(table, contentType: ResponseFormat.table(version: version).contentType)
    }

    static func object(_ json: String, kind: Kind, options: TableOptions, version: String) throws(Status) -> APIResponse {
        let body: JSONValue
        do { body = try JSONValue.parse(Data(json.utf8)) } catch { throw Status.internalError("stored object does not parse: \(error)") }
        let table = Tables.table(kind: kind, objects: [try typed(kind, body)], list: nil, options: options, context: context, version: version)
        return .json(table, contentType: ResponseFormat.table(version: version).contentType)
    }

    /// Each watch event's object as a one-row Table (column definitions in the first only, as
    /// kube-apiserver sends them); errors pass through as Statuses, bookmarks become empty Tables that
    /// carry the resourceVersion.
    static func watch(_ lines: AsyncStream<String>, kind: Kind, options: TableOptions, version: String) -> AsyncStream<String> {
        AsyncStream { continuation in
            let task = Task {
                var first = true
                for await line in lines {
                    continuation.yield(transform(line, kind: kind, options: options, version: version, headers: first))
                    first = false
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    static func transform(_ line: String, kind: Kind, options: TableOptions, version: String, headers: Bool) -> String {
        guard case .object(var event)? = try? JSONValue.parse(Data(line.utf8)), let type = event["type"]?.stringValue,
              let object = event["object"] else { return line }
        var opts = options
        opts.noHeaders = !headers
        switch type {
        case WatchEventType.error.rawValue:
            return line
        case WatchEventType.bookmark.rawValue:
            let rv = object["metadata"]?["resourceVersion"]?.stringValue
            var table = Tables.table(kind: kind, objects: [], list: ListMeta(resourceVersion: rv), options: opts, context: context, version: version)
            if let annotations = object["metadata"]?["annotations"] { table["metadata"]?["annotations"] = annotations }
            event["object"] = table
        default:
            guard let typed = try? typed(kind, object) else { return line }
            event["object"] = Tables.table(kind: kind, objects: [typed], list: nil, options: opts, context: context, version: version)
        }
        return JSONValue.object(event).jsonText() + "\n"
    }

    static func typed(_ kind: Kind, _ body: JSONValue) throws(Status) -> any KubeObject {
        do { return try kind.objectType.decode(from: body) } catch { throw Status.internalError("stored \(kind.resource) does not decode: \(error)") }
    }
}
