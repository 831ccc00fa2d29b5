import CairnCore

/// metav1.TableColumnDefinition.
public struct TableColumn: Sendable, Hashable {
    public var name: String
    /// "string", "integer", "boolean" (OpenAPI types).
    public var type: String
    /// "name" for the column that names the object, else "".
    public var format: String
    public var description: String
    /// 0: shown by `kubectl get`; 1: only with `-o wide`.
    public var priority: Int

    public init(_ name: String, _ description: String, type: String = "string", format: String = "", priority: Int = 0) {
        self.name = name
        self.type = type
        self.format = format
        self.description = description
        self.priority = priority
    }

    public var json: JSONValue {
        ["name": .string(name), "type": .string(type), "format": .string(format),
         "description": .string(description), "priority": .int(Int64(priority))]
    }
}

/// kube-apiserver's column definitions (pkg/printers/internalversion/printers.go, `AddHandlers`), with
/// the descriptions it takes from the types' SwaggerDoc, for the kinds Cairn serves.
public enum TableColumns {
    enum Doc {
        static let name = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
        static let creationTimestamp = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
        static let containers = "Names of each container in the template."
        static let images = "Images referenced by each container in the template."
    }

    static let nameColumn = TableColumn("Name", Doc.name, format: "name")
    static let ageColumn = TableColumn("Age", Doc.creationTimestamp)

    public static func of(_ kind: Kind) -> [TableColumn] {
        switch kind {
        case .pod:
            return [
                nameColumn,
                TableColumn("Ready", "The aggregate readiness state of this pod for accepting traffic."),
                TableColumn("Status", "The aggregate status of the containers in this pod."),
                TableColumn("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
                ageColumn,
                TableColumn("IP", "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", priority: 1),
                TableColumn("Node", "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename", priority: 1),
                TableColumn("Nominated Node", "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.", priority: 1),
                TableColumn("Readiness Gates", "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates", priority: 1),
            ]
        case .replicaSet:
            return [
                nameColumn,
                TableColumn("Desired", "Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset", type: "integer"),
                TableColumn("Current", "Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset", type: "integer"),
                TableColumn("Ready", "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.", type: "integer"),
                ageColumn,
                TableColumn("Containers", Doc.containers, priority: 1),
                TableColumn("Images", Doc.images, priority: 1),
                TableColumn("Selector", "Selector is a label query over pods that should match the replica count. Label keys and values that must match in order to be controlled by this replica set. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors", priority: 1),
            ]
        case .statefulSet:
            return [
                nameColumn,
                TableColumn("Ready", "Number of the pod with ready state"),
                ageColumn,
                TableColumn("Containers", Doc.containers, priority: 1),
                TableColumn("Images", Doc.images, priority: 1),
            ]
        case .service:
            return [
                nameColumn,
                TableColumn("Type", "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types"),
                TableColumn("Cluster-IP", "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"),
                TableColumn("External-IP", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system."),
                TableColumn("Port(s)", "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"),
                ageColumn,
                TableColumn("Selector", "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/", priority: 1),
            ]
        case .node:
            let addresses = "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP)."
            return [
                nameColumn,
                TableColumn("Status", "The status of the node"),
                TableColumn("Roles", "The roles of the node"),
                ageColumn,
                TableColumn("Version", "Kubelet Version reported by the node."),
                TableColumn("Internal-IP", addresses, priority: 1),
                TableColumn("External-IP", addresses, priority: 1),
                TableColumn("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", priority: 1),
                TableColumn("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", priority: 1),
                TableColumn("Container-Runtime", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", priority: 1),
            ]
        case .event:
            return [
                TableColumn("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
                TableColumn("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
                TableColumn("Reason", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
                TableColumn("Object", "The object that this event is about."),
                TableColumn("Subobject", "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.", priority: 1),
                TableColumn("Source", "The component reporting this event. Should be a short machine understandable string.", priority: 1),
                TableColumn("Message", "A human-readable description of the status of this operation."),
                TableColumn("First Seen", "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", priority: 1),
                TableColumn("Count", "The number of times this event has occurred.", priority: 1),
                TableColumn("Name", Doc.name, format: "name", priority: 1),
            ]
        case .namespace:
            return [nameColumn, TableColumn("Status", "The status of the namespace"), ageColumn]
        case .persistentVolume:
            return [
                nameColumn,
                TableColumn("Capacity", "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"),
                TableColumn("Access Modes", "accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes"),
                TableColumn("Reclaim Policy", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming"),
                TableColumn("Status", "phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase"),
                TableColumn("Claim", "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding"),
                TableColumn("StorageClass", "StorageClass of the pv"),
                TableColumn("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
                TableColumn("Reason", "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI."),
                ageColumn,
                TableColumn("VolumeMode", "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.", priority: 1),
            ]
        case .persistentVolumeClaim:
            return [
                nameColumn,
                TableColumn("Status", "phase represents the current phase of PersistentVolumeClaim."),
                TableColumn("Volume", "volumeName is the binding reference to the PersistentVolume backing this claim."),
                TableColumn("Capacity", "capacity represents the actual resources of the underlying volume."),
                TableColumn("Access Modes", "accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1"),
                TableColumn("StorageClass", "StorageClass of the pvc"),
                TableColumn("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
                ageColumn,
                TableColumn("VolumeMode", "volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.", priority: 1),
            ]
        case .storageClass:
            return [
                nameColumn,
                TableColumn("Provisioner", "provisioner indicates the type of the provisioner."),
                TableColumn("ReclaimPolicy", "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete."),
                TableColumn("VolumeBindingMode", "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature."),
                TableColumn("AllowVolumeExpansion", "allowVolumeExpansion shows whether the storage class allow volume expand."),
                ageColumn,
            ]
        }
    }
}
