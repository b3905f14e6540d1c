package offline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Account is the AWS account the offline engine pretends to deploy into.
const Account = "123456789012"

// state builds a resource's offline state: its inputs plus the outputs AWS or Cloudflare
// would compute.
type state struct {
	m      *mocks
	urn    string
	typ    string
	name   string
	inputs resource.PropertyMap
	out    resource.PropertyMap
}

func (s *state) hex(n int) string {
	h := sha256.Sum256([]byte(s.urn))
	return hex.EncodeToString(h[:])[:n]
}

func (s *state) in(key string) string {
	if v, ok := s.inputs[resource.PropertyKey(key)]; ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}

func (s *state) set(key string, v any) {
	s.out[resource.PropertyKey(key)] = resource.NewPropertyValue(v)
}

// physical returns the resource's physical name: the input that names it, or an auto-name.
func (s *state) physical(keys ...string) string {
	for _, k := range keys {
		if v := s.in(k); v != "" {
			s.set(k, v)
			return v
		}
	}
	n := strings.ToLower(s.name) + "-" + s.hex(7)
	if len(keys) > 0 {
		s.set(keys[0], n)
	}
	return n
}

func (s *state) part() string { return PartitionOf(s.m.region) }

func (s *state) arn(service, res string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", PartitionOf(s.m.region), service, s.m.region, Account, res)
}

// fabricate returns the id and state of a custom resource.
func fabricate(m *mocks, urn, typ, name string, inputs resource.PropertyMap) (string, resource.PropertyMap) {
	s := &state{m: m, urn: urn, typ: typ, name: name, inputs: inputs, out: inputs.Copy()}
	id := s.fill()
	if id == "" {
		id = s.hex(16)
	}
	s.set("id", id)
	return id, s.out
}

// fill sets the type's outputs from its catalog entry and returns its id.
func (s *state) fill() string {
	if k := Catalog[s.typ]; k != nil && k.Outputs != nil {
		return k.Outputs(s)
	}
	return ""
}

func (s *state) byte(i int) int {
	h := sha256.Sum256([]byte(s.urn))
	return int(h[i])
}

func compute(region string) string {
	if region == "us-east-1" {
		return "compute-1.amazonaws.com"
	}
	return region + ".compute.amazonaws.com"
}

// short is a region's short form in ElastiCache endpoints: us-east-1 is use1, ap-southeast-1
// apse1.
func short(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) != 3 {
		return region
	}
	dir := map[string]string{"east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
		"southeast": "se", "northeast": "ne", "northwest": "nw", "southwest": "sw"}[parts[1]]
	return parts[0] + dir + parts[2]
}

// zone is a hosted zone ID of a service in the planned region, in the real shape.
func (s *state) zone(service string) string {
	h := sha256.Sum256([]byte(service + s.m.region))
	return "Z" + strings.ToUpper(hex.EncodeToString(h[:])[:13])
}

// addressIn is an address inside the subnet whose id is given (its CIDR block), past the five
// addresses AWS reserves.
func (s *state) addressIn(subnetID string) string {
	s.m.mu.Lock()
	var cidr string
	for _, r := range s.m.order {
		if r.ID == subnetID && r.Type == "aws:ec2/subnet:Subnet" {
			cidr, _ = r.Inputs["cidrBlock"].(string)
		}
	}
	s.m.mu.Unlock()
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() {
		return fmt.Sprintf("10.0.%d.%d", s.byte(0)%32, s.byte(1)%250+4)
	}
	size := 1 << (32 - p.Bits())
	off := 5 + (s.byte(0)<<8|s.byte(1))%(size-6)
	b := p.Masked().Addr().As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n += uint32(off)
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}).String()
}

// password is a RandomPassword's result as the provider makes it: its length, from the
// character sets it allows, with at least the minimums of each.
func (s *state) password() string {
	num := func(k string, def int) int {
		if v, ok := s.inputs[resource.PropertyKey(k)]; ok && v.IsNumber() {
			return int(v.NumberValue())
		}
		return def
	}
	on := func(k string) bool {
		v, ok := s.inputs[resource.PropertyKey(k)]
		return !ok || !v.IsBool() || v.BoolValue()
	}
	special := "!@#$%&*()-_=+[]{}<>:?"
	if v, ok := s.inputs["overrideSpecial"]; ok && v.IsString() {
		special = v.StringValue()
	}
	sets := []struct {
		chars string
		min   int
		use   bool
	}{
		{"abcdefghijklmnopqrstuvwxyz", num("minLower", 0), on("lower")},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZ", num("minUpper", 0), on("upper")},
		{"0123456789", num("minNumeric", 0), on("numeric")},
		{special, num("minSpecial", 0), on("special") && special != ""},
	}
	length := num("length", 16)
	seed := sha256.Sum256([]byte(s.urn + "password"))
	pick := func(i int, chars string) byte { return chars[int(seed[i%32]^byte(i))%len(chars)] }
	var out []byte
	all := ""
	for _, set := range sets {
		if !set.use {
			continue
		}
		all += set.chars
		for j := 0; j < set.min; j++ {
			out = append(out, pick(len(out), set.chars))
		}
	}
	for len(out) < length && all != "" {
		out = append(out, pick(len(out), all))
	}
	return string(out[:min(len(out), max(length, len(out)))])
}
