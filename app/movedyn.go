package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// pgTime is how PostgreSQL prints a timestamptz in a UTC session.
const pgTime = "2006-01-02 15:04:05.999999999-07"

// activityItem is the DynamoDB item of one activity: the user as partition key, the time
// and the id as sort key (time first, so a user's items sort by time; the id keeps two in one
// instant apart), the id, the kind and the expiry.
func (tb *table) activityItem(id, userID int64, kind string, at time.Time) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		tb.partition: &types.AttributeValueMemberS{Value: strconv.FormatInt(userID, 10)},
		"id":         &types.AttributeValueMemberN{Value: strconv.FormatInt(id, 10)},
		"kind":       &types.AttributeValueMemberS{Value: kind},
	}
	if tb.sort != "" {
		item[tb.sort] = &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano) + "#" + strconv.FormatInt(id, 10)}
	}
	if tb.ttl != "" {
		item[tb.ttl] = &types.AttributeValueMemberN{Value: strconv.FormatInt(at.Add(activityTTL).Unix(), 10)}
	}
	return item
}

// putActivity writes one activity item. Without a sort key an item would replace the user's
// previous one: the write is conditional, so nothing is overwritten.
func (tb *table) putActivity(ctx context.Context, id, userID int64, kind string, at time.Time) error {
	in := &dynamodb.PutItemInput{TableName: aws.String(tb.name), Item: tb.activityItem(id, userID, kind, at)}
	if tb.sort == "" {
		in.ConditionExpression = aws.String("attribute_not_exists(#p) OR id = :id")
		in.ExpressionAttributeNames = map[string]string{"#p": tb.partition}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":id": &types.AttributeValueMemberN{Value: strconv.FormatInt(id, 10)}}
	}
	if _, err := tb.client.PutItem(ctx, in); err != nil {
		return fmt.Errorf("dynamodb: %w", err)
	}
	return nil
}

// dynStore is the DynamoDB table an activity move writes to.
type dynStore struct{ tb *table }

// put writes activity rows (id, user_id, kind, created_at) as items, 25 to a request.
func (d *dynStore) put(ctx context.Context, rs []row) error {
	for start := 0; start < len(rs); start += 25 {
		var reqs []types.WriteRequest
		for _, r := range rs[start:min(start+25, len(rs))] {
			id, _ := strconv.ParseInt(r[0], 10, 64)
			uid, _ := strconv.ParseInt(r[1], 10, 64)
			at, err := time.Parse(pgTime, r[3])
			if err != nil {
				return fmt.Errorf("activity %d: created_at %q: %w", id, r[3], err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: d.tb.activityItem(id, uid, r[2], at)}})
		}
		if err := d.batch(ctx, reqs); err != nil {
			return err
		}
	}
	return nil
}

// batch sends write requests until none is left unprocessed.
func (d *dynStore) batch(ctx context.Context, reqs []types.WriteRequest) error {
	wait := 50 * time.Millisecond
	for len(reqs) > 0 {
		out, err := d.tb.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{d.tb.name: reqs}})
		if err != nil {
			return fmt.Errorf("dynamodb %s: %w", d.tb.name, err)
		}
		reqs = out.UnprocessedItems[d.tb.name]
		if len(reqs) > 0 {
			if err := sleep(ctx, wait); err != nil {
				return err
			}
			wait = min(2*wait, 2*time.Second)
		}
	}
	return nil
}

// remove deletes the items of activities by id.
func (d *dynStore) remove(ctx context.Context, es []logEntry) error {
	for _, e := range es {
		items, err := d.items(ctx, &e.uid)
		if err != nil {
			return err
		}
		for _, it := range items {
			if it.id != e.id || it.uid != e.uid {
				continue
			}
			if _, err := d.tb.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(d.tb.name), Key: it.key}); err != nil {
				return fmt.Errorf("dynamodb %s: %w", d.tb.name, err)
			}
		}
	}
	return nil
}

// dynItem is one activity item as read back.
type dynItem struct {
	id, uid int64
	kind    string
	at      time.Time
	key     map[string]types.AttributeValue
}

// items reads every activity item, or one user's.
func (d *dynStore) items(ctx context.Context, user *int64) ([]dynItem, error) {
	var out []dynItem
	var start map[string]types.AttributeValue
	for {
		var page []map[string]types.AttributeValue
		if user != nil {
			res, err := d.tb.client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(d.tb.name), ExclusiveStartKey: start,
				KeyConditionExpression:    aws.String("#p = :u"),
				ExpressionAttributeNames:  map[string]string{"#p": d.tb.partition},
				ExpressionAttributeValues: map[string]types.AttributeValue{":u": &types.AttributeValueMemberS{Value: strconv.FormatInt(*user, 10)}}})
			if err != nil {
				return nil, fmt.Errorf("dynamodb %s: %w", d.tb.name, err)
			}
			page, start = res.Items, res.LastEvaluatedKey
		} else {
			res, err := d.tb.client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(d.tb.name), ExclusiveStartKey: start})
			if err != nil {
				return nil, fmt.Errorf("dynamodb %s: %w", d.tb.name, err)
			}
			page, start = res.Items, res.LastEvaluatedKey
		}
		for _, it := range page {
			out = append(out, d.parse(it))
		}
		if len(start) == 0 {
			return out, nil
		}
	}
}

func (d *dynStore) parse(it map[string]types.AttributeValue) dynItem {
	str := func(k string) string {
		switch v := it[k].(type) {
		case *types.AttributeValueMemberS:
			return v.Value
		case *types.AttributeValueMemberN:
			return v.Value
		}
		return ""
	}
	var x dynItem
	x.id, _ = strconv.ParseInt(str("id"), 10, 64)
	x.uid, _ = strconv.ParseInt(str(d.tb.partition), 10, 64)
	x.kind = str("kind")
	x.key = map[string]types.AttributeValue{d.tb.partition: it[d.tb.partition]}
	if d.tb.sort != "" {
		x.key[d.tb.sort] = it[d.tb.sort]
		at, _, _ := strings.Cut(str(d.tb.sort), "#")
		x.at, _ = time.Parse(time.RFC3339Nano, at)
	}
	return x
}

// checksum aggregates every item over id, user and kind, as pgStore.checksum does over
// activityChecked.
func (d *dynStore) checksum(ctx context.Context) (aggregate, error) {
	items, err := d.items(ctx, nil)
	if err != nil {
		return aggregate{}, err
	}
	a := newAggregate()
	for _, it := range items {
		a.rows++
		a.sum.Add(a.sum, rowSum(strconv.FormatInt(it.id, 10), strconv.FormatInt(it.uid, 10), it.kind))
	}
	return a, nil
}

// asRows returns items as activity rows, for a move back to PostgreSQL.
func asRows(items []dynItem) []row {
	out := make([]row, len(items))
	for i, it := range items {
		at := it.at
		if at.IsZero() {
			at = time.Now()
		}
		out[i] = row{strconv.FormatInt(it.id, 10), strconv.FormatInt(it.uid, 10), it.kind, at.UTC().Format(pgTime)}
	}
	return out
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errNoTable: a tier names a DynamoDB table that the parameters do not describe.
var errNoTable = errors.New("no DynamoDB table in the parameters")
