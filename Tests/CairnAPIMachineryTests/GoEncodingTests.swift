@testable import CairnAPIMachinery
import CairnCore
import Testing

/// encoding/json's omitempty, as kube-apiserver's Go structs apply it when an object is stored.
struct GoEncodingTests {
    static let cases: [(Int, Kind, String, String)] = [
        // 1. An empty env (what `$patch: delete` of the last variable leaves) is gone, as on a real cluster.
        (1, .statefulSet, #"{"spec":{"template":{"spec":{"containers":[{"name":"c","env":[],"image":"x"}]}}}}"#,
         #"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"x"}]}}}}"#),
        // 2. Empty labels, annotations and finalizers; a null ownerReferences.
        (2, .persistentVolumeClaim, #"{"metadata":{"name":"a","labels":{},"annotations":{},"finalizers":[],"ownerReferences":null}}"#,
         #"{"metadata":{"name":"a"}}"#),
        // 3. Zero scalars stay (pointer fields keep them): replicas 0, an empty string.
        (3, .statefulSet, #"{"spec":{"replicas":0,"serviceName":""}}"#, #"{"spec":{"replicas":0,"serviceName":""}}"#),
        // 4. A field written even when empty (no omitempty) keeps its empty value: a container's name.
        (4, .pod, #"{"spec":{"containers":[{"name":""}]}}"#, #"{"spec":{"containers":[{"name":""}]}}"#),
        // 5. An empty struct stays (encoding/json never omits a struct); its empty lists go.
        (5, .pod, #"{"spec":{"affinity":{},"containers":[{"name":"c","resources":{"requests":{}}}]}}"#,
         #"{"spec":{"affinity":{},"containers":[{"name":"c","resources":{}}]}}"#),
        // 6. Values inside a map or list are shaped, the list itself kept when not empty.
        (6, .persistentVolumeClaim, #"{"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1G"},"limits":{}}}}"#,
         #"{"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1G"}}}}"#),
        // 7. Fields the table does not know are left alone.
        (7, .service, #"{"spec":{"unknownToUpstream":[]}}"#, #"{"spec":{"unknownToUpstream":[]}}"#),
    ]

    @Test(arguments: cases)
    func table(_ c: (Int, Kind, String, String)) throws {
        #expect(GoEncoding.omittingEmpty(try JSONValue.parse(c.2), kind: c.1) == (try JSONValue.parse(c.3)), "case \(c.0)")
    }
}
