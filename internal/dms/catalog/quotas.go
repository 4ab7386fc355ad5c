package catalog

// Quota is one account quota DescribeAccountAttributes reports.
type Quota struct {
	Name string
	Max  int64
}

// Quota names.
const (
	QuotaReplicationInstances             = "ReplicationInstances"
	QuotaAllocatedStorage                 = "AllocatedStorage" // GB over all replication instances in a region
	QuotaEndpoints                        = "Endpoints"
	QuotaReplicationTasks                 = "ReplicationTasks"
	QuotaReplicationSubnetGroups          = "ReplicationSubnetGroups"
	QuotaEventSubscriptions               = "EventSubscriptions"
	QuotaCertificates                     = "Certificates"
	QuotaEndpointsPerInstance             = "EndpointsPerInstance"
	QuotaSubnetsPerReplicationSubnetGroup = "SubnetsPerReplicationSubnetGroup"
)

// MaxTasksPerInstance is the number of replication tasks one replication
// instance may hold. DMS enforces it but does not report it as an account quota.
const MaxTasksPerInstance = 200

// quotas are the per-region defaults of the DMS quotas page.
var quotas = []Quota{
	{QuotaReplicationInstances, 60},
	{QuotaAllocatedStorage, 30000},
	{QuotaEndpoints, 1000},
	{QuotaReplicationTasks, 600},
	{QuotaReplicationSubnetGroups, 60},
	{QuotaEventSubscriptions, 60},
	{QuotaCertificates, 100},
	{QuotaEndpointsPerInstance, 100},
	{QuotaSubnetsPerReplicationSubnetGroup, 60},
}

// AccountQuotas returns the account quotas in the order DescribeAccountAttributes lists them.
func AccountQuotas() []Quota {
	return append([]Quota(nil), quotas...)
}

// QuotaMax returns the maximum of the named quota.
func QuotaMax(name string) (int64, bool) {
	for _, q := range quotas {
		if q.Name == name {
			return q.Max, true
		}
	}
	return 0, false
}
