package offline

// statefulTypes are the resource types that hold data: deleting or replacing one loses it.
var statefulTypes = map[string]bool{
	"aws:rds/instance:Instance":                         true,
	"aws:rds/cluster:Cluster":                           true,
	"aws:ebs/volume:Volume":                             true,
	"aws:s3/bucketV2:BucketV2":                          true,
	"aws:s3/bucket:Bucket":                              true,
	"aws:elasticache/replicationGroup:ReplicationGroup": true,
	"aws:dynamodb/table:Table":                          true,
}

// Stateful reports whether a resource holds data. A read replica holds only a copy of its
// source, so it is not stateful.
func Stateful(typ string, inputs map[string]any) bool {
	if !statefulTypes[typ] {
		return false
	}
	if src, ok := inputs["replicateSourceDb"].(string); ok && src != "" {
		return false
	}
	return true
}
