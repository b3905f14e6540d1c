package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

// creds are AWS credentials; Lambda puts the function role's in the environment.
type creds struct{ key, secret, token string }

func credsFromEnv() creds {
	return creds{os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")}
}

func hmacSHA256(key []byte, s string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(s))
	return h.Sum(nil)
}

// authToken returns an RDS IAM authentication token: a SigV4 presigned "connect" request for
// endpoint (host:port), valid 15 minutes, used as the database password.
func authToken(endpoint, region, user string, c creds, now time.Time) (string, error) {
	if c.key == "" || c.secret == "" {
		return "", fmt.Errorf("no AWS credentials in the environment")
	}
	now = now.UTC()
	date, stamp := now.Format("20060102"), now.Format("20060102T150405Z")
	scope := date + "/" + region + "/rds-db/aws4_request"
	q := url.Values{}
	q.Set("Action", "connect")
	q.Set("DBUser", user)
	q.Set("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
	q.Set("X-Amz-Credential", c.key+"/"+scope)
	q.Set("X-Amz-Date", stamp)
	q.Set("X-Amz-Expires", "900")
	q.Set("X-Amz-SignedHeaders", "host")
	if c.token != "" {
		q.Set("X-Amz-Security-Token", c.token)
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, url.QueryEscape(k)+"="+strings.ReplaceAll(url.QueryEscape(q.Get(k)), "+", "%20"))
	}
	query := strings.Join(parts, "&")
	payload := sha256.Sum256(nil)
	canonical := strings.Join([]string{"GET", "/", query, "host:" + endpoint + "\n", "host", hex.EncodeToString(payload[:])}, "\n")
	digest := sha256.Sum256([]byte(canonical))
	toSign := strings.Join([]string{"AWS4-HMAC-SHA256", stamp, scope, hex.EncodeToString(digest[:])}, "\n")
	k := hmacSHA256([]byte("AWS4"+c.secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, "rds-db")
	k = hmacSHA256(k, "aws4_request")
	sig := hex.EncodeToString(hmacSHA256(k, toSign))
	return endpoint + "/?" + query + "&X-Amz-Signature=" + sig, nil
}
