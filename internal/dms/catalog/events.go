package catalog

import "slices"

// Event source types.
const (
	SourceReplicationInstance = "replication-instance"
	SourceReplicationTask     = "replication-task"
)

// Event categories as DescribeEventCategories and event subscriptions spell them.
const (
	CategoryConfigurationChange = "configuration change"
	CategoryCreation            = "creation"
	CategoryDeletion            = "deletion"
	CategoryMaintenance         = "maintenance"
	CategoryLowStorage          = "low storage"
	CategoryFailover            = "failover"
	CategoryFailure             = "failure"
	CategoryStateChange         = "state change"
)

// EventCategoryGroup is one row of DescribeEventCategories.
type EventCategoryGroup struct {
	SourceType      string
	EventCategories []string
}

var eventCategories = []EventCategoryGroup{
	{SourceReplicationInstance, []string{
		CategoryConfigurationChange, CategoryCreation, CategoryDeletion, CategoryMaintenance,
		CategoryLowStorage, CategoryFailover, CategoryFailure,
	}},
	{SourceReplicationTask, []string{
		CategoryStateChange, CategoryConfigurationChange, CategoryCreation, CategoryDeletion, CategoryFailure,
	}},
}

// EventCategories returns the event categories of each source type.
func EventCategories() []EventCategoryGroup {
	out := make([]EventCategoryGroup, len(eventCategories))
	for i, g := range eventCategories {
		out[i] = EventCategoryGroup{g.SourceType, slices.Clone(g.EventCategories)}
	}
	return out
}

// IsEventCategory reports whether category belongs to sourceType; an empty
// sourceType matches any source type.
func IsEventCategory(sourceType, category string) bool {
	for _, g := range eventCategories {
		if (sourceType == "" || g.SourceType == sourceType) && slices.Contains(g.EventCategories, category) {
			return true
		}
	}
	return false
}

// EventID is one DMS event message.
type EventID struct {
	ID         string // "DMS-EVENT-0005"
	SourceType string
	Category   string
	Message    string
}

// Event ids the emulator emits for instance and task lifecycle.
const (
	EventInstanceClassChanging    = "DMS-EVENT-0012"
	EventInstanceClassChanged     = "DMS-EVENT-0014"
	EventInstanceStorageGrowing   = "DMS-EVENT-0018"
	EventInstanceStorageGrown     = "DMS-EVENT-0017"
	EventInstanceToMultiAZ        = "DMS-EVENT-0024"
	EventInstanceMultiAZDone      = "DMS-EVENT-0025"
	EventInstanceToSingleAZ       = "DMS-EVENT-0030"
	EventInstanceSingleAZDone     = "DMS-EVENT-0029"
	EventInstanceCreating         = "DMS-EVENT-0067"
	EventInstanceCreated          = "DMS-EVENT-0005"
	EventInstanceDeleting         = "DMS-EVENT-0066"
	EventInstanceDeleted          = "DMS-EVENT-0003"
	EventInstanceSoftwareUpdated  = "DMS-EVENT-0047"
	EventInstanceMaintenanceStart = "DMS-EVENT-0026"
	EventInstanceMaintenanceDone  = "DMS-EVENT-0027"
	EventInstanceNotUpgradable    = "DMS-EVENT-0068"
	EventInstanceLowStorage       = "DMS-EVENT-0007"
	EventInstanceFailoverStarted  = "DMS-EVENT-0013"
	EventInstanceFailoverDone     = "DMS-EVENT-0049"
	EventInstanceStandbyFailover  = "DMS-EVENT-0015"
	EventInstanceMultiAZStarting  = "DMS-EVENT-0050"
	EventInstanceMultiAZStarted   = "DMS-EVENT-0051"
	EventInstanceFailoverThrottle = "DMS-EVENT-0034"
	EventInstanceStorageFailure   = "DMS-EVENT-0031"
	EventInstanceNetworkFailure   = "DMS-EVENT-0036"
	EventInstanceKMSFailure       = "DMS-EVENT-0037"

	EventTaskStarted         = "DMS-EVENT-0069"
	EventTaskReloadRequested = "DMS-EVENT-0081"
	EventTaskStopped         = "DMS-EVENT-0079"
	EventTaskSwapLimitPause  = "DMS-EVENT-0091"
	EventTaskDiskLimitPause  = "DMS-EVENT-0092"
	EventTaskReadingResumed  = "DMS-EVENT-0093"
	EventTaskFailed          = "DMS-EVENT-0078"
	EventTaskCleanupFailed   = "DMS-EVENT-0082"
	EventTaskModified        = "DMS-EVENT-0080"
	EventTaskDeleted         = "DMS-EVENT-0073"
	EventTaskCreated         = "DMS-EVENT-0074"
)

var events = []EventID{
	{EventInstanceClassChanging, SourceReplicationInstance, CategoryConfigurationChange, "Replication instance class change started"},
	{EventInstanceClassChanged, SourceReplicationInstance, CategoryConfigurationChange, "Replication instance class change finished"},
	{EventInstanceStorageGrowing, SourceReplicationInstance, CategoryConfigurationChange, "Replication instance storage increase started"},
	{EventInstanceStorageGrown, SourceReplicationInstance, CategoryConfigurationChange, "Replication instance storage increase finished"},
	{EventInstanceToMultiAZ, SourceReplicationInstance, CategoryConfigurationChange, "Replication instance conversion to Multi-AZ started"},
	{EventInstanceMultiAZDone, SourceReplicationInstance, CategoryConfigurationChange, "Replication instance conversion to Multi-AZ finished"},
	{EventInstanceToSingleAZ, SourceReplicationInstance, CategoryConfigurationChange, "Replication instance conversion to Single-AZ started"},
	{EventInstanceSingleAZDone, SourceReplicationInstance, CategoryConfigurationChange, "Replication instance conversion to Single-AZ finished"},
	{EventInstanceCreating, SourceReplicationInstance, CategoryCreation, "Replication instance creation started"},
	{EventInstanceCreated, SourceReplicationInstance, CategoryCreation, "Replication instance created"},
	{EventInstanceDeleting, SourceReplicationInstance, CategoryDeletion, "Replication instance deletion started"},
	{EventInstanceDeleted, SourceReplicationInstance, CategoryDeletion, "Replication instance deleted"},
	{EventInstanceSoftwareUpdated, SourceReplicationInstance, CategoryMaintenance, "Replication instance software updated"},
	{EventInstanceMaintenanceStart, SourceReplicationInstance, CategoryMaintenance, "Replication instance offline for maintenance"},
	{EventInstanceMaintenanceDone, SourceReplicationInstance, CategoryMaintenance, "Replication instance maintenance finished; instance available"},
	{EventInstanceNotUpgradable, SourceReplicationInstance, CategoryMaintenance, "Replication instance cannot be upgraded in its current state"},
	{EventInstanceLowStorage, SourceReplicationInstance, CategoryLowStorage, "Replication instance free storage is low"},
	{EventInstanceFailoverStarted, SourceReplicationInstance, CategoryFailover, "Multi-AZ failover started"},
	{EventInstanceFailoverDone, SourceReplicationInstance, CategoryFailover, "Multi-AZ failover finished"},
	{EventInstanceStandbyFailover, SourceReplicationInstance, CategoryFailover, "Multi-AZ failover to the standby finished"},
	{EventInstanceMultiAZStarting, SourceReplicationInstance, CategoryFailover, "Multi-AZ activation started"},
	{EventInstanceMultiAZStarted, SourceReplicationInstance, CategoryFailover, "Multi-AZ activation finished"},
	{EventInstanceFailoverThrottle, SourceReplicationInstance, CategoryFailover, "Failover requested too often; request not carried out"},
	{EventInstanceStorageFailure, SourceReplicationInstance, CategoryFailure, "Replication instance storage failure"},
	{EventInstanceNetworkFailure, SourceReplicationInstance, CategoryFailure, "Replication instance failed: incompatible network"},
	{EventInstanceKMSFailure, SourceReplicationInstance, CategoryFailure, "Replication instance cannot access the KMS key of its storage"},

	{EventTaskStarted, SourceReplicationTask, CategoryStateChange, "Replication task started"},
	{EventTaskReloadRequested, SourceReplicationTask, CategoryStateChange, "Table reload requested"},
	{EventTaskStopped, SourceReplicationTask, CategoryStateChange, "Replication task stopped"},
	{EventTaskSwapLimitPause, SourceReplicationTask, CategoryStateChange, "Reading paused: swap file limit reached"},
	{EventTaskDiskLimitPause, SourceReplicationTask, CategoryStateChange, "Reading paused: disk usage limit reached"},
	{EventTaskReadingResumed, SourceReplicationTask, CategoryStateChange, "Reading resumed"},
	{EventTaskFailed, SourceReplicationTask, CategoryFailure, "Replication task failed"},
	{EventTaskCleanupFailed, SourceReplicationTask, CategoryFailure, "Replication task deletion could not clean up task data"},
	{EventTaskModified, SourceReplicationTask, CategoryConfigurationChange, "Replication task modified"},
	{EventTaskDeleted, SourceReplicationTask, CategoryDeletion, "Replication task deleted"},
	{EventTaskCreated, SourceReplicationTask, CategoryCreation, "Replication task created"},
}

// Event returns the category and message of a DMS event id.
func Event(id string) (EventID, bool) {
	for _, e := range events {
		if e.ID == id {
			return e, true
		}
	}
	return EventID{}, false
}

// Events lists every known event id.
func Events() []EventID {
	return slices.Clone(events)
}
