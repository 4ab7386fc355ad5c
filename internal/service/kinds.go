package service

import "github.com/godwit-dms/godwit/internal/store"

// Store kinds of the domain's records, with the schema version of their documents.
const (
	KindInstance    store.Kind = "replication-instance"
	KindSubnetGroup store.Kind = "subnet-group"
	KindEndpoint    store.Kind = "endpoint"
	KindConnection  store.Kind = "connection"
	KindCertificate store.Kind = "certificate"
	KindTask        store.Kind = "replication-task"

	SchemaV1 = 1
)
