// Generated from k8s.io/api and k8s.io/apimachinery struct tags; see UpstreamSchema for the format.
// Regenerate by reading the same types.go files again, never by hand-editing one field.
enum UpstreamSchemaTable {
    static let text = """
apps.v1.ReplicaSet
  kind s:string
  apiVersion s:string
  metadata o:meta.v1.ObjectMeta always
  spec o:apps.v1.ReplicaSetSpec always
  status o:apps.v1.ReplicaSetStatus always
apps.v1.ReplicaSetCondition
  type s:string always
  status s:string always
  lastTransitionTime s:time
  reason s:string
  message s:string
apps.v1.ReplicaSetSpec
  replicas s:integer
  minReadySeconds s:integer
  selector o:meta.v1.LabelSelector always
  template o:core.v1.PodTemplateSpec always
apps.v1.ReplicaSetStatus
  replicas s:integer always
  fullyLabeledReplicas s:integer
  readyReplicas s:integer
  availableReplicas s:integer
  terminatingReplicas s:integer
  observedGeneration s:integer
  conditions l:o:apps.v1.ReplicaSetCondition strategy=merge key=type list=map keys=type
apps.v1.RollingUpdateStatefulSetStrategy
  partition s:integer
  maxUnavailable s:intOrString
apps.v1.StatefulSet
  kind s:string
  apiVersion s:string
  metadata o:meta.v1.ObjectMeta always
  spec o:apps.v1.StatefulSetSpec always
  status o:apps.v1.StatefulSetStatus always
apps.v1.StatefulSetCondition
  type s:string always
  status s:string always
  lastTransitionTime s:time
  reason s:string
  message s:string
apps.v1.StatefulSetOrdinals
  start s:integer always
apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy
  whenDeleted s:string
  whenScaled s:string
apps.v1.StatefulSetSpec
  replicas s:integer
  selector o:meta.v1.LabelSelector always
  template o:core.v1.PodTemplateSpec always
  volumeClaimTemplates l:o:core.v1.PersistentVolumeClaim list=atomic
  serviceName s:string always
  podManagementPolicy s:string
  updateStrategy o:apps.v1.StatefulSetUpdateStrategy always
  revisionHistoryLimit s:integer
  minReadySeconds s:integer
  persistentVolumeClaimRetentionPolicy o:apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy
  ordinals o:apps.v1.StatefulSetOrdinals
apps.v1.StatefulSetStatus
  observedGeneration s:integer
  replicas s:integer always
  readyReplicas s:integer
  currentReplicas s:integer
  updatedReplicas s:integer
  currentRevision s:string
  updateRevision s:string
  collisionCount s:integer
  conditions l:o:apps.v1.StatefulSetCondition strategy=merge key=type list=map keys=type
  availableReplicas s:integer always
apps.v1.StatefulSetUpdateStrategy
  type s:string
  rollingUpdate o:apps.v1.RollingUpdateStatefulSetStrategy
autoscaling.v1.Scale
  kind s:string
  apiVersion s:string
  metadata o:meta.v1.ObjectMeta always
  spec o:autoscaling.v1.ScaleSpec always
  status o:autoscaling.v1.ScaleStatus always
autoscaling.v1.ScaleSpec
  replicas s:integer
autoscaling.v1.ScaleStatus
  replicas s:integer always
  selector s:string
core.v1.AWSElasticBlockStoreVolumeSource
  volumeID s:string always
  fsType s:string
  partition s:integer
  readOnly s:boolean
core.v1.Affinity
  nodeAffinity o:core.v1.NodeAffinity
  podAffinity o:core.v1.PodAffinity
  podAntiAffinity o:core.v1.PodAntiAffinity
core.v1.AppArmorProfile
  type s:string always
  localhostProfile s:string
core.v1.AttachedVolume
  name s:string always
  devicePath s:string always
core.v1.AzureDiskVolumeSource
  diskName s:string always
  diskURI s:string always
  cachingMode s:string
  fsType s:string
  readOnly s:boolean
  kind s:string
core.v1.AzureFilePersistentVolumeSource
  secretName s:string always
  shareName s:string always
  readOnly s:boolean
  secretNamespace s:string always
core.v1.AzureFileVolumeSource
  secretName s:string always
  shareName s:string always
  readOnly s:boolean
core.v1.CSIPersistentVolumeSource
  driver s:string always
  volumeHandle s:string always
  readOnly s:boolean
  fsType s:string
  volumeAttributes m:s:string
  controllerPublishSecretRef o:core.v1.SecretReference
  nodeStageSecretRef o:core.v1.SecretReference
  nodePublishSecretRef o:core.v1.SecretReference
  controllerExpandSecretRef o:core.v1.SecretReference
  nodeExpandSecretRef o:core.v1.SecretReference
core.v1.CSIVolumeSource
  driver s:string always
  readOnly s:boolean
  fsType s:string
  volumeAttributes m:s:string
  nodePublishSecretRef o:core.v1.LocalObjectReference
core.v1.Capabilities
  add l:s:string list=atomic
  drop l:s:string list=atomic
core.v1.CephFSPersistentVolumeSource
  monitors l:s:string always list=atomic
  path s:string
  user s:string
  secretFile s:string
  secretRef o:core.v1.SecretReference
  readOnly s:boolean
core.v1.CephFSVolumeSource
  monitors l:s:string always list=atomic
  path s:string
  user s:string
  secretFile s:string
  secretRef o:core.v1.LocalObjectReference
  readOnly s:boolean
core.v1.CinderPersistentVolumeSource
  volumeID s:string always
  fsType s:string
  readOnly s:boolean
  secretRef o:core.v1.SecretReference
core.v1.CinderVolumeSource
  volumeID s:string always
  fsType s:string
  readOnly s:boolean
  secretRef o:core.v1.LocalObjectReference
core.v1.ClientIPConfig
  timeoutSeconds s:integer
core.v1.ClusterTrustBundleProjection
  name s:string
  signerName s:string
  labelSelector o:meta.v1.LabelSelector
  optional s:boolean
  path s:string always
  user s:integer
core.v1.ConfigMapEnvSource
  name s:string
  optional s:boolean
core.v1.ConfigMapKeySelector
  name s:string
  key s:string always
  optional s:boolean
core.v1.ConfigMapNodeConfigSource
  namespace s:string always
  name s:string always
  uid s:string
  resourceVersion s:string
  kubeletConfigKey s:string always
core.v1.ConfigMapProjection
  name s:string
  items l:o:core.v1.KeyToPath list=atomic
  optional s:boolean
core.v1.ConfigMapVolumeSource
  name s:string
  items l:o:core.v1.KeyToPath list=atomic
  defaultMode s:integer
  optional s:boolean
  defaultUser s:integer
core.v1.Container
  name s:string always
  image s:string
  command l:s:string list=atomic
  args l:s:string list=atomic
  workingDir s:string
  ports l:o:core.v1.ContainerPort strategy=merge key=containerPort list=map keys=containerPort,protocol
  envFrom l:o:core.v1.EnvFromSource list=atomic
  env l:o:core.v1.EnvVar strategy=merge key=name list=map keys=name
  resources o:core.v1.ResourceRequirements always
  resizePolicy l:o:core.v1.ContainerResizePolicy list=atomic
  restartPolicy s:string
  restartPolicyRules l:o:core.v1.ContainerRestartRule list=atomic
  volumeMounts l:o:core.v1.VolumeMount strategy=merge key=mountPath list=map keys=mountPath
  volumeDevices l:o:core.v1.VolumeDevice strategy=merge key=devicePath list=map keys=devicePath
  livenessProbe o:core.v1.Probe
  readinessProbe o:core.v1.Probe
  startupProbe o:core.v1.Probe
  lifecycle o:core.v1.Lifecycle
  terminationMessagePath s:string
  terminationMessagePolicy s:string
  imagePullPolicy s:string
  securityContext o:core.v1.SecurityContext
  stdin s:boolean
  stdinOnce s:boolean
  tty s:boolean
core.v1.ContainerExtendedResourceRequest
  containerName s:string always
  resourceName s:string always
  requestName s:string always
core.v1.ContainerImage
  names l:s:string always list=atomic
  sizeBytes s:integer
core.v1.ContainerPort
  name s:string
  hostPort s:integer
  containerPort s:integer always
  protocol s:string
  hostIP s:string
core.v1.ContainerResizePolicy
  resourceName s:string always
  restartPolicy s:string always
core.v1.ContainerRestartRule
  action s:string
  exitCodes o:core.v1.ContainerRestartRuleOnExitCodes
core.v1.ContainerRestartRuleOnExitCodes
  operator s:string
  values l:s:integer list=set
core.v1.ContainerState
  waiting o:core.v1.ContainerStateWaiting
  running o:core.v1.ContainerStateRunning
  terminated o:core.v1.ContainerStateTerminated
core.v1.ContainerStateRunning
  startedAt s:time
core.v1.ContainerStateTerminated
  exitCode s:integer always
  signal s:integer
  reason s:string
  message s:string
  startedAt s:time
  finishedAt s:time
  containerID s:string
core.v1.ContainerStateWaiting
  reason s:string
  message s:string
core.v1.ContainerStatus
  name s:string always
  state o:core.v1.ContainerState always
  lastState o:core.v1.ContainerState always
  ready s:boolean always
  restartCount s:integer always
  image s:string always
  imageID s:string always
  containerID s:string
  started s:boolean
  allocatedResources m:s:quantity
  resources o:core.v1.ResourceRequirements
  volumeMounts l:o:core.v1.VolumeMountStatus strategy=merge key=mountPath list=map keys=mountPath
  user o:core.v1.ContainerUser
  allocatedResourcesStatus l:o:core.v1.ResourceStatus strategy=merge key=name list=map keys=name
  stopSignal s:string
core.v1.ContainerUser
  linux o:core.v1.LinuxContainerUser
core.v1.DaemonEndpoint
  Port s:integer always
core.v1.DownwardAPIProjection
  items l:o:core.v1.DownwardAPIVolumeFile list=atomic
core.v1.DownwardAPIVolumeFile
  path s:string always
  fieldRef o:core.v1.ObjectFieldSelector
  resourceFieldRef o:core.v1.ResourceFieldSelector
  mode s:integer
  user s:integer
core.v1.DownwardAPIVolumeSource
  items l:o:core.v1.DownwardAPIVolumeFile list=atomic
  defaultMode s:integer
  defaultUser s:integer
core.v1.EmptyDirVolumeSource
  medium s:string
  sizeLimit s:quantity
  mode s:integer
core.v1.EnvFromSource
  prefix s:string
  configMapRef o:core.v1.ConfigMapEnvSource
  secretRef o:core.v1.SecretEnvSource
core.v1.EnvVar
  name s:string always
  value s:string
  valueFrom o:core.v1.EnvVarSource
core.v1.EnvVarSource
  fieldRef o:core.v1.ObjectFieldSelector
  resourceFieldRef o:core.v1.ResourceFieldSelector
  configMapKeyRef o:core.v1.ConfigMapKeySelector
  secretKeyRef o:core.v1.SecretKeySelector
  fileKeyRef o:core.v1.FileKeySelector
core.v1.EphemeralContainer
  name s:string always
  image s:string
  command l:s:string list=atomic
  args l:s:string list=atomic
  workingDir s:string
  ports l:o:core.v1.ContainerPort strategy=merge key=containerPort list=map keys=containerPort,protocol
  envFrom l:o:core.v1.EnvFromSource list=atomic
  env l:o:core.v1.EnvVar strategy=merge key=name list=map keys=name
  resources o:core.v1.ResourceRequirements always
  resizePolicy l:o:core.v1.ContainerResizePolicy list=atomic
  restartPolicy s:string
  restartPolicyRules l:o:core.v1.ContainerRestartRule list=atomic
  volumeMounts l:o:core.v1.VolumeMount strategy=merge key=mountPath list=map keys=mountPath
  volumeDevices l:o:core.v1.VolumeDevice strategy=merge key=devicePath list=map keys=devicePath
  livenessProbe o:core.v1.Probe
  readinessProbe o:core.v1.Probe
  startupProbe o:core.v1.Probe
  lifecycle o:core.v1.Lifecycle
  terminationMessagePath s:string
  terminationMessagePolicy s:string
  imagePullPolicy s:string
  securityContext o:core.v1.SecurityContext
  stdin s:boolean
  stdinOnce s:boolean
  tty s:boolean
  targetContainerName s:string
core.v1.EphemeralVolumeSource
  volumeClaimTemplate o:core.v1.PersistentVolumeClaimTemplate
core.v1.Event
  kind s:string
  apiVersion s:string
  metadata o:meta.v1.ObjectMeta always
  involvedObject o:core.v1.ObjectReference always
  reason s:string
  message s:string
  source o:core.v1.EventSource always
  firstTimestamp s:time
  lastTimestamp s:time
  count s:integer
  type s:string
  eventTime s:time
  series o:core.v1.EventSeries
  action s:string
  related o:core.v1.ObjectReference
  reportingComponent s:string always
  reportingInstance s:string always
core.v1.EventSeries
  count s:integer
  lastObservedTime s:time
core.v1.EventSource
  component s:string
  host s:string
core.v1.EvictionResponder
  name s:string always
  priority s:integer always
core.v1.ExecAction
  command l:s:string list=atomic
core.v1.FCVolumeSource
  targetWWNs l:s:string list=atomic
  lun s:integer
  fsType s:string
  readOnly s:boolean
  wwids l:s:string list=atomic
core.v1.FileKeySelector
  volumeName s:string always
  path s:string always
  key s:string always
  optional s:boolean
core.v1.FlexPersistentVolumeSource
  driver s:string always
  fsType s:string
  secretRef o:core.v1.SecretReference
  readOnly s:boolean
  options m:s:string
core.v1.FlexVolumeSource
  driver s:string always
  fsType s:string
  secretRef o:core.v1.LocalObjectReference
  readOnly s:boolean
  options m:s:string
core.v1.FlockerVolumeSource
  datasetName s:string
  datasetUUID s:string
core.v1.GCEPersistentDiskVolumeSource
  pdName s:string always
  fsType s:string
  partition s:integer
  readOnly s:boolean
core.v1.GRPCAction
  port s:integer always
  service s:string always
  mode s:string
core.v1.GitRepoVolumeSource
  repository s:string always
  revision s:string
  directory s:string
core.v1.GlusterfsPersistentVolumeSource
  endpoints s:string always
  path s:string always
  readOnly s:boolean
  endpointsNamespace s:string
core.v1.GlusterfsVolumeSource
  endpoints s:string always
  path s:string always
  readOnly s:boolean
core.v1.HTTPGetAction
  path s:string
  port s:intOrString always
  host s:string
  scheme s:string
  httpHeaders l:o:core.v1.HTTPHeader list=atomic
  protocol s:string
core.v1.HTTPHeader
  name s:string always
  value s:string always
core.v1.HostAlias
  ip s:string always
  hostnames l:s:string list=atomic
core.v1.HostIP
  ip s:string always
core.v1.HostPathVolumeSource
  path s:string always
  type s:string
core.v1.ISCSIPersistentVolumeSource
  targetPortal s:string always
  iqn s:string always
  lun s:integer always
  iscsiInterface s:string
  fsType s:string
  readOnly s:boolean
  portals l:s:string list=atomic
  chapAuthDiscovery s:boolean
  chapAuthSession s:boolean
  secretRef o:core.v1.SecretReference
  initiatorName s:string
core.v1.ISCSIVolumeSource
  targetPortal s:string always
  iqn s:string always
  lun s:integer always
  iscsiInterface s:string
  fsType s:string
  readOnly s:boolean
  portals l:s:string list=atomic
  chapAuthDiscovery s:boolean
  chapAuthSession s:boolean
  secretRef o:core.v1.LocalObjectReference
  initiatorName s:string
core.v1.ImageVolumeSource
  reference s:string
  pullPolicy s:string
core.v1.ImageVolumeStatus
  imageRef s:string
core.v1.KeyToPath
  key s:string always
  path s:string always
  mode s:integer
  user s:integer
core.v1.Lifecycle
  postStart o:core.v1.LifecycleHandler
  preStop o:core.v1.LifecycleHandler
  stopSignal s:string
core.v1.LifecycleHandler
  exec o:core.v1.ExecAction
  httpGet o:core.v1.HTTPGetAction
  tcpSocket o:core.v1.TCPSocketAction
  sleep o:core.v1.SleepAction
core.v1.LinuxContainerUser
  uid s:integer always
  gid s:integer always
  supplementalGroups l:s:integer list=atomic
core.v1.LoadBalancerIngress
  ip s:string
  hostname s:string
  ipMode s:string
  ports l:o:core.v1.PortStatus list=atomic
core.v1.LoadBalancerStatus
  ingress l:o:core.v1.LoadBalancerIngress list=atomic
core.v1.LocalObjectReference
  name s:string
core.v1.LocalVolumeSource
  path s:string always
  fsType s:string
core.v1.ModifyVolumeStatus
  targetVolumeAttributesClassName s:string
  status s:string always
core.v1.NFSVolumeSource
  server s:string always
  path s:string always
  readOnly s:boolean
core.v1.Namespace
  kind s:string
  apiVersion s:string
  metadata o:meta.v1.ObjectMeta always
  spec o:core.v1.NamespaceSpec always
  status o:core.v1.NamespaceStatus always
core.v1.NamespaceCondition
  type s:string always
  status s:string always
  lastTransitionTime s:time
  reason s:string
  message s:string
core.v1.NamespaceSpec
  finalizers l:s:string list=atomic
core.v1.NamespaceStatus
  phase s:string
  conditions l:o:core.v1.NamespaceCondition strategy=merge key=type list=map keys=type
core.v1.Node
  kind s:string
  apiVersion s:string
  metadata o:meta.v1.ObjectMeta always
  spec o:core.v1.NodeSpec always
  status o:core.v1.NodeStatus always
core.v1.NodeAddress
  type s:string always
  address s:string always
core.v1.NodeAffinity
  requiredDuringSchedulingIgnoredDuringExecution o:core.v1.NodeSelector
  preferredDuringSchedulingIgnoredDuringExecution l:o:core.v1.PreferredSchedulingTerm list=atomic
core.v1.NodeAllocatableMappedResources
  name s:string always
  quantity s:quantity always
core.v1.NodeAllocatableOverheadResources
  name s:string always
  perPod s:quantity
  perContainer s:quantity
core.v1.NodeAllocatableResourceClaimStatus
  resourceClaimName s:string always
  containers l:s:string list=set
  mapping l:o:core.v1.NodeAllocatableMappedResources strategy=merge key=name list=map keys=name,name
  overhead l:o:core.v1.NodeAllocatableOverheadResources strategy=merge key=name list=map keys=name,name
core.v1.NodeCondition
  type s:string always
  status s:string always
  lastHeartbeatTime s:time
  lastTransitionTime s:time
  reason s:string
  message s:string
core.v1.NodeConfigSource
  configMap o:core.v1.ConfigMapNodeConfigSource
core.v1.NodeConfigStatus
  assigned o:core.v1.NodeConfigSource
  active o:core.v1.NodeConfigSource
  lastKnownGood o:core.v1.NodeConfigSource
  error s:string
core.v1.NodeDaemonEndpoints
  kubeletEndpoint o:core.v1.DaemonEndpoint always
core.v1.NodeFeatures
  supplementalGroupsPolicy s:boolean
core.v1.NodePodPreemptionPolicy
  disableResizePreemption l:s:string list=set
core.v1.NodeRuntimeHandler
  name s:string always
  features o:core.v1.NodeRuntimeHandlerFeatures
core.v1.NodeRuntimeHandlerFeatures
  recursiveReadOnlyMounts s:boolean
  userNamespaces s:boolean
core.v1.NodeSelector
  nodeSelectorTerms l:o:core.v1.NodeSelectorTerm always list=atomic
core.v1.NodeSelectorRequirement
  key s:string always
  operator s:string always
  values l:s:string list=atomic
core.v1.NodeSelectorTerm
  matchExpressions l:o:core.v1.NodeSelectorRequirement list=atomic
  matchFields l:o:core.v1.NodeSelectorRequirement list=atomic
core.v1.NodeSpec
  podCIDR s:string
  podCIDRs l:s:string strategy=merge list=set
  providerID s:string
  unschedulable s:boolean
  taints l:o:core.v1.Taint list=atomic
  configSource o:core.v1.NodeConfigSource
  externalID s:string
  podPreemptionPolicy o:core.v1.NodePodPreemptionPolicy
core.v1.NodeStatus
  capacity m:s:quantity
  allocatable m:s:quantity
  phase s:string
  conditions l:o:core.v1.NodeCondition strategy=merge key=type list=map keys=type
  addresses l:o:core.v1.NodeAddress strategy=merge key=type list=map keys=type
  daemonEndpoints o:core.v1.NodeDaemonEndpoints always
  nodeInfo o:core.v1.NodeSystemInfo always
  images l:o:core.v1.ContainerImage list=atomic
  volumesInUse l:s:string list=atomic
  volumesAttached l:o:core.v1.AttachedVolume list=atomic
  config o:core.v1.NodeConfigStatus
  runtimeHandlers l:o:core.v1.NodeRuntimeHandler list=atomic
  features o:core.v1.NodeFeatures
  declaredFeatures l:s:string list=atomic
core.v1.NodeSwapStatus
  capacity s:integer
core.v1.NodeSystemInfo
  machineID s:string always
  systemUUID s:string always
  bootID s:string always
  kernelVersion s:string always
  osImage s:string always
  containerRuntimeVersion s:string always
  kubeletVersion s:string always
  kubeProxyVersion s:string always
  operatingSystem s:string always
  architecture s:string always
  swap o:core.v1.NodeSwapStatus
core.v1.ObjectFieldSelector
  apiVersion s:string
  fieldPath s:string always
core.v1.ObjectReference
  kind s:string
  namespace s:string
  name s:string
  uid s:string
  apiVersion s:string
  resourceVersion s:string
  fieldPath s:string
core.v1.PersistentVolume
  kind s:string
  apiVersion s:string
  metadata o:meta.v1.ObjectMeta always
  spec o:core.v1.PersistentVolumeSpec always
  status o:core.v1.PersistentVolumeStatus always
core.v1.PersistentVolumeClaim
  kind s:string
  apiVersion s:string
  metadata o:meta.v1.ObjectMeta always
  spec o:core.v1.PersistentVolumeClaimSpec always
  status o:core.v1.PersistentVolumeClaimStatus always
core.v1.PersistentVolumeClaimCondition
  type s:string always
  status s:string always
  lastProbeTime s:time
  lastTransitionTime s:time
  reason s:string
  message s:string
core.v1.PersistentVolumeClaimSpec
  accessModes l:s:string list=atomic
  selector o:meta.v1.LabelSelector
  resources o:core.v1.VolumeResourceRequirements always
  volumeName s:string
  storageClassName s:string
  volumeMode s:string
  dataSource o:core.v1.TypedLocalObjectReference
  dataSourceRef o:core.v1.TypedObjectReference
  volumeAttributesClassName s:string
core.v1.PersistentVolumeClaimStatus
  phase s:string
  accessModes l:s:string list=atomic
  capacity m:s:quantity
  conditions l:o:core.v1.PersistentVolumeClaimCondition strategy=merge key=type list=map keys=type
  allocatedResources m:s:quantity
  allocatedResourceStatuses m:s:string
  currentVolumeAttributesClassName s:string
  modifyVolumeStatus o:core.v1.ModifyVolumeStatus
  healthStatus o:core.v1.VolumeHealthStatus
core.v1.PersistentVolumeClaimTemplate
  metadata o:meta.v1.ObjectMeta always
  spec o:core.v1.PersistentVolumeClaimSpec always
core.v1.PersistentVolumeClaimVolumeSource
  claimName s:string always
  readOnly s:boolean
core.v1.PersistentVolumeSpec
  capacity m:s:quantity
  gcePersistentDisk o:core.v1.GCEPersistentDiskVolumeSource
  awsElasticBlockStore o:core.v1.AWSElasticBlockStoreVolumeSource
  hostPath o:core.v1.HostPathVolumeSource
  glusterfs o:core.v1.GlusterfsPersistentVolumeSource
  nfs o:core.v1.NFSVolumeSource
  rbd o:core.v1.RBDPersistentVolumeSource
  iscsi o:core.v1.ISCSIPersistentVolumeSource
  cinder o:core.v1.CinderPersistentVolumeSource
  cephfs o:core.v1.CephFSPersistentVolumeSource
  fc o:core.v1.FCVolumeSource
  flocker o:core.v1.FlockerVolumeSource
  flexVolume o:core.v1.FlexPersistentVolumeSource
  azureFile o:core.v1.AzureFilePersistentVolumeSource
  vsphereVolume o:core.v1.VsphereVirtualDiskVolumeSource
  quobyte o:core.v1.QuobyteVolumeSource
  azureDisk o:core.v1.AzureDiskVolumeSource
  photonPersistentDisk o:core.v1.PhotonPersistentDiskVolumeSource
  portworxVolume o:core.v1.PortworxVolumeSource
  scaleIO o:core.v1.ScaleIOPersistentVolumeSource
  local o:core.v1.LocalVolumeSource
  storageos o:core.v1.StorageOSPersistentVolumeSource
  csi o:core.v1.CSIPersistentVolumeSource
  accessModes l:s:string list=atomic
  claimRef o:core.v1.ObjectReference
  persistentVolumeReclaimPolicy s:string
  storageClassName s:string
  mountOptions l:s:string list=atomic
  volumeMode s:string
  nodeAffinity o:core.v1.VolumeNodeAffinity
  volumeAttributesClassName s:string
core.v1.PersistentVolumeStatus
  phase s:string
  message s:string
  reason s:string
  lastPhaseTransitionTime s:time
core.v1.PhotonPersistentDiskVolumeSource
  pdID s:string always
  fsType s:string
core.v1.Pod
  kind s:string
  apiVersion s:string
  metadata o:meta.v1.ObjectMeta always
  spec o:core.v1.PodSpec always
  status o:core.v1.PodStatus always
core.v1.PodAffinity
  requiredDuringSchedulingIgnoredDuringExecution l:o:core.v1.PodAffinityTerm list=atomic
  preferredDuringSchedulingIgnoredDuringExecution l:o:core.v1.WeightedPodAffinityTerm list=atomic
core.v1.PodAffinityTerm
  labelSelector o:meta.v1.LabelSelector
  namespaces l:s:string list=atomic
  topologyKey s:string always
  namespaceSelector o:meta.v1.LabelSelector
  matchLabelKeys l:s:string list=atomic
  mismatchLabelKeys l:s:string list=atomic
core.v1.PodAntiAffinity
  requiredDuringSchedulingIgnoredDuringExecution l:o:core.v1.PodAffinityTerm list=atomic
  preferredDuringSchedulingIgnoredDuringExecution l:o:core.v1.WeightedPodAffinityTerm list=atomic
core.v1.PodCertificateProjection
  signerName s:string
  keyType s:string
  maxExpirationSeconds s:integer
  credentialBundlePath s:string
  keyPath s:string
  certificateChainPath s:string
  userAnnotations m:s:string
  user s:integer
core.v1.PodCondition
  type s:string always
  observedGeneration s:integer
  status s:string always
  lastProbeTime s:time
  lastTransitionTime s:time
  reason s:string
  message s:string
core.v1.PodDNSConfig
  nameservers l:s:string list=atomic
  searches l:s:string list=atomic
  options l:o:core.v1.PodDNSConfigOption list=atomic
core.v1.PodDNSConfigOption
  name s:string
  value s:string
core.v1.PodExtendedResourceClaimStatus
  requestMappings l:o:core.v1.ContainerExtendedResourceRequest always list=atomic
  resourceClaimName s:string always
core.v1.PodIP
  ip s:string always
core.v1.PodOS
  name s:string always
core.v1.PodReadinessGate
  conditionType s:string always
core.v1.PodResourceClaim
  name s:string always
  resourceClaimName s:string
  resourceClaimTemplateName s:string
core.v1.PodResourceClaimStatus
  name s:string always
  resourceClaimName s:string
core.v1.PodSchedulingGate
  name s:string always
core.v1.PodSchedulingGroup
  podGroupName s:string
core.v1.PodSecurityContext
  seLinuxOptions o:core.v1.SELinuxOptions
  windowsOptions o:core.v1.WindowsSecurityContextOptions
  runAsUser s:integer
  runAsGroup s:integer
  runAsNonRoot s:boolean
  supplementalGroups l:s:integer list=atomic
  supplementalGroupsPolicy s:string
  fsGroup s:integer
  sysctls l:o:core.v1.Sysctl list=atomic
  fsGroupChangePolicy s:string
  seccompProfile o:core.v1.SeccompProfile
  appArmorProfile o:core.v1.AppArmorProfile
  seLinuxChangePolicy s:string
core.v1.PodSpec
  volumes l:o:core.v1.Volume strategy=merge,retainKeys key=name list=map keys=name
  initContainers l:o:core.v1.Container strategy=merge key=name list=map keys=name
  containers l:o:core.v1.Container always strategy=merge key=name list=map keys=name
  ephemeralContainers l:o:core.v1.EphemeralContainer strategy=merge key=name list=map keys=name
  restartPolicy s:string
  terminationGracePeriodSeconds s:integer
  activeDeadlineSeconds s:integer
  dnsPolicy s:string
  nodeSelector m:s:string
  serviceAccountName s:string
  serviceAccount s:string
  automountServiceAccountToken s:boolean
  nodeName s:string
  hostNetwork s:boolean
  hostPID s:boolean
  hostIPC s:boolean
  shareProcessNamespace s:boolean
  securityContext o:core.v1.PodSecurityContext
  imagePullSecrets l:o:core.v1.LocalObjectReference strategy=merge key=name list=map keys=name
  hostname s:string
  subdomain s:string
  affinity o:core.v1.Affinity
  schedulerName s:string
  tolerations l:o:core.v1.Toleration list=atomic
  hostAliases l:o:core.v1.HostAlias strategy=merge key=ip list=map keys=ip
  priorityClassName s:string
  priority s:integer
  dnsConfig o:core.v1.PodDNSConfig
  readinessGates l:o:core.v1.PodReadinessGate list=atomic
  runtimeClassName s:string
  enableServiceLinks s:boolean
  preemptionPolicy s:string
  overhead m:s:quantity
  topologySpreadConstraints l:o:core.v1.TopologySpreadConstraint strategy=merge key=topologyKey list=map keys=topologyKey,whenUnsatisfiable
  setHostnameAsFQDN s:boolean
  os o:core.v1.PodOS
  hostUsers s:boolean
  schedulingGates l:o:core.v1.PodSchedulingGate strategy=merge key=name list=map keys=name
  resourceClaims l:o:core.v1.PodResourceClaim strategy=merge,retainKeys key=name list=map keys=name
  resources o:core.v1.ResourceRequirements
  hostnameOverride s:string
  schedulingGroup o:core.v1.PodSchedulingGroup
  evictionResponders l:o:core.v1.EvictionResponder strategy=merge key=name list=map keys=name,name
core.v1.PodStatus
  observedGeneration s:integer
  phase s:string
  conditions l:o:core.v1.PodCondition strategy=merge key=type list=map keys=type
  message s:string
  reason s:string
  nominatedNodeName s:string
  hostIP s:string
  hostIPs l:o:core.v1.HostIP strategy=merge key=ip list=atomic
  podIP s:string
  podIPs l:o:core.v1.PodIP strategy=merge key=ip list=map keys=ip
  startTime s:time
  initContainerStatuses l:o:core.v1.ContainerStatus list=atomic
  containerStatuses l:o:core.v1.ContainerStatus list=atomic
  qosClass s:string
  ephemeralContainerStatuses l:o:core.v1.ContainerStatus list=atomic
  resize s:string
  resourceClaimStatuses l:o:core.v1.PodResourceClaimStatus strategy=merge,retainKeys key=name list=map keys=name
  extendedResourceClaimStatus o:core.v1.PodExtendedResourceClaimStatus
  allocatedResources m:s:quantity
  resources o:core.v1.ResourceRequirements
  nodeAllocatableResourceClaimStatuses l:o:core.v1.NodeAllocatableResourceClaimStatus strategy=merge key=resourceClaimName list=map keys=resourceClaimName,resourceClaimName
  volumeHealth l:o:core.v1.PodVolumeHealth list=map keys=name,name
core.v1.PodTemplateSpec
  metadata o:meta.v1.ObjectMeta always
  spec o:core.v1.PodSpec always
core.v1.PodVolumeHealth
  name s:string always
  healthConditions l:o:core.v1.VolumeHealthCondition strategy=merge key=status list=map keys=status,reason,status,reason
  lastTransitionTime s:time
core.v1.PortStatus
  port s:integer always
  protocol s:string always
  error s:string
core.v1.PortworxVolumeSource
  volumeID s:string always
  fsType s:string
  readOnly s:boolean
core.v1.PreferredSchedulingTerm
  weight s:integer always
  preference o:core.v1.NodeSelectorTerm always
core.v1.Probe
  exec o:core.v1.ExecAction
  httpGet o:core.v1.HTTPGetAction
  tcpSocket o:core.v1.TCPSocketAction
  grpc o:core.v1.GRPCAction
  initialDelaySeconds s:integer
  timeoutSeconds s:integer
  periodSeconds s:integer
  successThreshold s:integer
  failureThreshold s:integer
  terminationGracePeriodSeconds s:integer
core.v1.ProjectedVolumeSource
  sources l:o:core.v1.VolumeProjection always list=atomic
  defaultMode s:integer
  defaultUser s:integer
core.v1.QuobyteVolumeSource
  registry s:string always
  volume s:string always
  readOnly s:boolean
  user s:string
  group s:string
  tenant s:string
core.v1.RBDPersistentVolumeSource
  monitors l:s:string always list=atomic
  image s:string always
  fsType s:string
  pool s:string
  user s:string
  keyring s:string
  secretRef o:core.v1.SecretReference
  readOnly s:boolean
core.v1.RBDVolumeSource
  monitors l:s:string always list=atomic
  image s:string always
  fsType s:string
  pool s:string
  user s:string
  keyring s:string
  secretRef o:core.v1.LocalObjectReference
  readOnly s:boolean
core.v1.ResourceClaim
  name s:string always
  request s:string
core.v1.ResourceFieldSelector
  containerName s:string
  resource s:string always
  divisor s:quantity
core.v1.ResourceHealth
  resourceID s:string always
  health s:string
  message s:string
core.v1.ResourceRequirements
  limits m:s:quantity
  requests m:s:quantity
  claims l:o:core.v1.ResourceClaim list=map keys=name
core.v1.ResourceStatus
  name s:string always
  resources l:o:core.v1.ResourceHealth list=map keys=resourceID
core.v1.SELinuxOptions
  user s:string
  role s:string
  type s:string
  level s:string
core.v1.ScaleIOPersistentVolumeSource
  gateway s:string always
  system s:string always
  secretRef o:core.v1.SecretReference always
  sslEnabled s:boolean
  protectionDomain s:string
  storagePool s:string
  storageMode s:string
  volumeName s:string
  fsType s:string
  readOnly s:boolean
core.v1.ScaleIOVolumeSource
  gateway s:string always
  system s:string always
  secretRef o:core.v1.LocalObjectReference always
  sslEnabled s:boolean
  protectionDomain s:string
  storagePool s:string
  storageMode s:string
  volumeName s:string
  fsType s:string
  readOnly s:boolean
core.v1.SeccompProfile
  type s:string always
  localhostProfile s:string
core.v1.SecretEnvSource
  name s:string
  optional s:boolean
core.v1.SecretKeySelector
  name s:string
  key s:string always
  optional s:boolean
core.v1.SecretProjection
  name s:string
  items l:o:core.v1.KeyToPath list=atomic
  optional s:boolean
core.v1.SecretReference
  name s:string
  namespace s:string
core.v1.SecretVolumeSource
  secretName s:string
  items l:o:core.v1.KeyToPath list=atomic
  defaultMode s:integer
  optional s:boolean
  defaultUser s:integer
core.v1.SecurityContext
  capabilities o:core.v1.Capabilities
  privileged s:boolean
  seLinuxOptions o:core.v1.SELinuxOptions
  windowsOptions o:core.v1.WindowsSecurityContextOptions
  runAsUser s:integer
  runAsGroup s:integer
  runAsNonRoot s:boolean
  readOnlyRootFilesystem s:boolean
  allowPrivilegeEscalation s:boolean
  procMount s:string
  seccompProfile o:core.v1.SeccompProfile
  appArmorProfile o:core.v1.AppArmorProfile
core.v1.Service
  kind s:string
  apiVersion s:string
  metadata o:meta.v1.ObjectMeta always
  spec o:core.v1.ServiceSpec always
  status o:core.v1.ServiceStatus always
core.v1.ServiceAccountTokenProjection
  audience s:string
  expirationSeconds s:integer
  path s:string always
  user s:integer
core.v1.ServicePort
  name s:string
  protocol s:string
  appProtocol s:string
  port s:integer always
  targetPort s:intOrString
  nodePort s:integer
core.v1.ServiceSpec
  ports l:o:core.v1.ServicePort strategy=merge key=port list=map keys=port,protocol
  selector m:s:string
  clusterIP s:string
  clusterIPs l:s:string list=atomic
  type s:string
  externalIPs l:s:string list=atomic
  sessionAffinity s:string
  loadBalancerIP s:string
  loadBalancerSourceRanges l:s:string list=atomic
  externalName s:string
  externalTrafficPolicy s:string
  healthCheckNodePort s:integer
  publishNotReadyAddresses s:boolean
  sessionAffinityConfig o:core.v1.SessionAffinityConfig
  ipFamilies l:s:string list=atomic
  ipFamilyPolicy s:string
  allocateLoadBalancerNodePorts s:boolean
  loadBalancerClass s:string
  internalTrafficPolicy s:string
  trafficDistribution s:string
core.v1.ServiceStatus
  loadBalancer o:core.v1.LoadBalancerStatus always
  conditions l:o:meta.v1.Condition strategy=merge key=type list=map keys=type
core.v1.SessionAffinityConfig
  clientIP o:core.v1.ClientIPConfig
core.v1.SleepAction
  seconds s:integer always
core.v1.StorageOSPersistentVolumeSource
  volumeName s:string
  volumeNamespace s:string
  fsType s:string
  readOnly s:boolean
  secretRef o:core.v1.ObjectReference
core.v1.StorageOSVolumeSource
  volumeName s:string
  volumeNamespace s:string
  fsType s:string
  readOnly s:boolean
  secretRef o:core.v1.LocalObjectReference
core.v1.Sysctl
  name s:string always
  value s:string always
core.v1.TCPSocketAction
  port s:intOrString always
  host s:string
core.v1.Taint
  key s:string always
  value s:string
  effect s:string always
  timeAdded s:time
core.v1.Toleration
  key s:string
  operator s:string
  value s:string
  effect s:string
  tolerationSeconds s:integer
core.v1.TopologySelectorLabelRequirement
  key s:string always
  values l:s:string always list=atomic
core.v1.TopologySelectorTerm
  matchLabelExpressions l:o:core.v1.TopologySelectorLabelRequirement list=atomic
core.v1.TopologySpreadConstraint
  maxSkew s:integer always
  topologyKey s:string always
  whenUnsatisfiable s:string always
  labelSelector o:meta.v1.LabelSelector
  minDomains s:integer
  nodeAffinityPolicy s:string
  nodeTaintsPolicy s:string
  matchLabelKeys l:s:string list=atomic
core.v1.TypedLocalObjectReference
  apiGroup s:string always
  kind s:string always
  name s:string always
core.v1.TypedObjectReference
  apiGroup s:string always
  kind s:string always
  name s:string always
  namespace s:string
core.v1.Volume
  name s:string always
  hostPath o:core.v1.HostPathVolumeSource
  emptyDir o:core.v1.EmptyDirVolumeSource
  gcePersistentDisk o:core.v1.GCEPersistentDiskVolumeSource
  awsElasticBlockStore o:core.v1.AWSElasticBlockStoreVolumeSource
  gitRepo o:core.v1.GitRepoVolumeSource
  secret o:core.v1.SecretVolumeSource
  nfs o:core.v1.NFSVolumeSource
  iscsi o:core.v1.ISCSIVolumeSource
  glusterfs o:core.v1.GlusterfsVolumeSource
  persistentVolumeClaim o:core.v1.PersistentVolumeClaimVolumeSource
  rbd o:core.v1.RBDVolumeSource
  flexVolume o:core.v1.FlexVolumeSource
  cinder o:core.v1.CinderVolumeSource
  cephfs o:core.v1.CephFSVolumeSource
  flocker o:core.v1.FlockerVolumeSource
  downwardAPI o:core.v1.DownwardAPIVolumeSource
  fc o:core.v1.FCVolumeSource
  azureFile o:core.v1.AzureFileVolumeSource
  configMap o:core.v1.ConfigMapVolumeSource
  vsphereVolume o:core.v1.VsphereVirtualDiskVolumeSource
  quobyte o:core.v1.QuobyteVolumeSource
  azureDisk o:core.v1.AzureDiskVolumeSource
  photonPersistentDisk o:core.v1.PhotonPersistentDiskVolumeSource
  projected o:core.v1.ProjectedVolumeSource
  portworxVolume o:core.v1.PortworxVolumeSource
  scaleIO o:core.v1.ScaleIOVolumeSource
  storageos o:core.v1.StorageOSVolumeSource
  csi o:core.v1.CSIVolumeSource
  ephemeral o:core.v1.EphemeralVolumeSource
  image o:core.v1.ImageVolumeSource
core.v1.VolumeDevice
  name s:string always
  devicePath s:string always
core.v1.VolumeHealthCondition
  status s:string always
  reason s:string always
  message s:string
core.v1.VolumeHealthStatus
  healthConditions l:o:core.v1.VolumeHealthCondition strategy=merge key=status list=map keys=status,reason,status,reason
  lastTransitionTime s:time
core.v1.VolumeMount
  name s:string always
  readOnly s:boolean
  recursiveReadOnly s:string
  mountPath s:string always
  subPath s:string
  mountPropagation s:string
  subPathExpr s:string
  bindMountOptions l:s:string list=set
core.v1.VolumeMountStatus
  name s:string always
  mountPath s:string always
  readOnly s:boolean
  recursiveReadOnly s:string
  volumeStatus o:core.v1.VolumeStatus
core.v1.VolumeNodeAffinity
  required o:core.v1.NodeSelector
core.v1.VolumeProjection
  secret o:core.v1.SecretProjection
  downwardAPI o:core.v1.DownwardAPIProjection
  configMap o:core.v1.ConfigMapProjection
  serviceAccountToken o:core.v1.ServiceAccountTokenProjection
  clusterTrustBundle o:core.v1.ClusterTrustBundleProjection
  podCertificate o:core.v1.PodCertificateProjection
core.v1.VolumeResourceRequirements
  limits m:s:quantity
  requests m:s:quantity
core.v1.VolumeStatus
  image o:core.v1.ImageVolumeStatus
core.v1.VsphereVirtualDiskVolumeSource
  volumePath s:string always
  fsType s:string
  storagePolicyName s:string
  storagePolicyID s:string
core.v1.WeightedPodAffinityTerm
  weight s:integer always
  podAffinityTerm o:core.v1.PodAffinityTerm always
core.v1.WindowsSecurityContextOptions
  gmsaCredentialSpecName s:string
  gmsaCredentialSpec s:string
  runAsUserName s:string
  hostProcess s:boolean
meta.v1.Condition
  type s:string always
  status s:string always
  observedGeneration s:integer
  lastTransitionTime s:time always
  reason s:string always
  message s:string always
meta.v1.LabelSelector
  matchLabels m:s:string
  matchExpressions l:o:meta.v1.LabelSelectorRequirement list=atomic
meta.v1.LabelSelectorRequirement
  key s:string always
  operator s:string always
  values l:s:string list=atomic
meta.v1.ListMeta
  selfLink s:string
  resourceVersion s:string
  continue s:string
  remainingItemCount s:integer
  shardInfo o:meta.v1.ShardInfo
meta.v1.ManagedFieldsEntry
  manager s:string
  operation s:string
  apiVersion s:string
  time s:time
  fieldsType s:string
  fieldsV1 s:object
  subresource s:string
meta.v1.ObjectMeta
  name s:string
  generateName s:string
  namespace s:string
  selfLink s:string
  uid s:string
  resourceVersion s:string
  generation s:integer
  creationTimestamp s:time
  deletionTimestamp s:time
  deletionGracePeriodSeconds s:integer
  labels m:s:string
  annotations m:s:string
  ownerReferences l:o:meta.v1.OwnerReference strategy=merge key=uid list=map keys=uid
  finalizers l:s:string strategy=merge list=set
  managedFields l:o:meta.v1.ManagedFieldsEntry list=atomic
meta.v1.OwnerReference
  apiVersion s:string always
  kind s:string always
  name s:string always
  uid s:string always
  controller s:boolean
  blockOwnerDeletion s:boolean
meta.v1.ShardInfo
  selector s:string always
meta.v1.Status
  kind s:string
  apiVersion s:string
  metadata o:meta.v1.ListMeta always
  status s:string
  message s:string
  reason s:string
  details o:meta.v1.StatusDetails
  code s:integer
meta.v1.StatusCause
  reason s:string
  message s:string
  field s:string
meta.v1.StatusDetails
  name s:string
  group s:string
  kind s:string
  uid s:string
  causes l:o:meta.v1.StatusCause list=atomic
  retryAfterSeconds s:integer
storage.v1.StorageClass
  kind s:string
  apiVersion s:string
  metadata o:meta.v1.ObjectMeta always
  provisioner s:string always
  parameters m:s:string
  reclaimPolicy s:string
  mountOptions l:s:string list=atomic
  allowVolumeExpansion s:boolean
  volumeBindingMode s:string
  allowedTopologies l:o:core.v1.TopologySelectorTerm list=atomic
"""
}
