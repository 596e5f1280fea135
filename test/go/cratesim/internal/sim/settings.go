package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Settings the simulator gives meaning to.
const (
	SettingAllocationEnable = "cluster.routing.allocation.enable"
	SettingMinAvailability  = "cluster.graceful_stop.min_availability"
	SettingTimeout          = "cluster.graceful_stop.timeout"
	SettingForce            = "cluster.graceful_stop.force"
	// SettingStatsEnabled: false empties sys.jobs and sys.operations (as in CrateDB)
	SettingStatsEnabled = "stats.enabled"
)

var settingDefaults = map[string]any{
	SettingAllocationEnable: "all",
	SettingMinAvailability:  "PRIMARIES",
	SettingTimeout:          "2h",
	SettingForce:            false,
	SettingStatsEnabled:     true,
	SettingRecoveryMaxBytes: "40mb",
}

// SQLError is an error that maps to CrateDB's error JSON.
type SQLError struct {
	Code    int
	Message string
	// Plain: answered as a text/plain body (Message) instead of error JSON,
	// like a draining node's "[node][addr:4300][sql] disconnected".
	Plain bool
}

func (e *SQLError) Error() string { return e.Message }

// HTTPStatus maps a CrateDB error code to its HTTP status.
func (e *SQLError) HTTPStatus() int {
	switch {
	case e.Code == 5032:
		return 503
	case e.Code >= 5000:
		return 500
	case e.Code == 4010 || e.Code == 4011:
		return 401
	case e.Code >= 4040 && e.Code < 4050:
		return 404
	case e.Code == 4091 || e.Code == 4092 || e.Code == 4093:
		return 409
	}
	return 400
}

func sqlErr(code int, format string, a ...any) *SQLError {
	return &SQLError{Code: code, Message: fmt.Sprintf(format, a...)}
}

func (c *Cluster) effectiveLocked(name string) (any, bool) {
	if v, ok := c.transient[name]; ok {
		return v, true
	}
	if v, ok := c.persistent[name]; ok {
		return v, true
	}
	return nil, false
}

func (c *Cluster) settingLocked(name string) any {
	if v, ok := c.effectiveLocked(name); ok {
		return v
	}
	return settingDefaults[name]
}

// ParseTimeValue parses CrateDB/Elasticsearch time strings: 720s, 2h, 10m,
// 500ms, 1d; a bare number is milliseconds.
func ParseTimeValue(v string) (time.Duration, error) {
	s := strings.TrimSpace(strings.ToLower(v))
	units := []struct {
		suf string
		d   time.Duration
	}{{"nanos", time.Nanosecond}, {"micros", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	for _, u := range units {
		if strings.HasSuffix(s, u.suf) {
			n, err := strconv.ParseFloat(strings.TrimSuffix(s, u.suf), 64)
			if err != nil || n < 0 {
				break
			}
			return time.Duration(n * float64(u.d)), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return time.Duration(n) * time.Millisecond, nil
	}
	return 0, fmt.Errorf("failed to parse setting [%s] with value [%s] as a time value: unit is missing or unrecognized", SettingTimeout, v)
}

// normalizeSetting validates and normalizes a value for a known setting.
func (c *Cluster) normalizeSetting(name string, v any) (any, *SQLError) {
	str := fmt.Sprint(v)
	switch name {
	case SettingAllocationEnable:
		l := strings.ToLower(str)
		switch l {
		case "all", "primaries", "new_primaries", "none":
			return l, nil
		}
		return nil, sqlErr(4000, "IllegalArgumentException: Illegal value '%s' for setting '%s', allowed values: [all, primaries, new_primaries, none]", str, name)
	case SettingMinAvailability:
		u := strings.ToUpper(str)
		switch u {
		case "NONE", "PRIMARIES", "FULL":
			return u, nil
		}
		if c.cfg.StrictSettings {
			return nil, sqlErr(4000, "IllegalArgumentException: Invalid value '%s' for setting '%s'", str, name)
		}
		c.warnings = append(c.warnings, Event{Time: c.now(), What: fmt.Sprintf("%s set to unknown value %q: CrateDB silently treats it as NONE", name, str)})
		return str, nil
	case SettingRecoveryMaxBytes:
		if _, err := ParseByteSize(str); err != nil {
			return nil, sqlErr(4000, "IllegalArgumentException: %s for setting '%s'", err, name)
		}
		return str, nil
	case SettingTimeout:
		if _, err := ParseTimeValue(str); err != nil {
			return nil, sqlErr(4000, "IllegalArgumentException: %s", err)
		}
		return str, nil
	case SettingForce, SettingStatsEnabled:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			switch strings.ToLower(b) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, sqlErr(4000, "IllegalArgumentException: Can't convert \"%s\" to boolean for setting '%s'", str, name)
	}
	if !(strings.HasPrefix(name, "cluster.") || strings.HasPrefix(name, "indices.") || strings.HasPrefix(name, "stats.") ||
		strings.HasPrefix(name, "bulk.") || strings.HasPrefix(name, "overload_protection.") || strings.HasPrefix(name, "memory.") ||
		strings.HasPrefix(name, "statement_timeout") || strings.HasPrefix(name, "udc.") || strings.HasPrefix(name, "license.")) {
		return nil, sqlErr(4000, "SQLParseException: Setting '%s' is not supported", name)
	}
	return v, nil
}

func (c *Cluster) setGlobalLocked(persistent bool, assigns map[string]any, order []string) *SQLError {
	norm := map[string]any{}
	for _, name := range order {
		v, err := c.normalizeSetting(name, assigns[name])
		if err != nil {
			return err
		}
		norm[name] = v
	}
	for _, name := range order {
		if persistent {
			c.persistent[name] = norm[name]
		} else {
			c.transient[name] = norm[name]
		}
		lvl := "TRANSIENT"
		if persistent {
			lvl = "PERSISTENT"
		}
		c.logLocked("SET GLOBAL %s %q = %v", lvl, name, norm[name])
	}
	c.stepLocked(c.now())
	return nil
}

func (c *Cluster) resetGlobalLocked(names []string) *SQLError {
	for _, n := range names {
		// RESET of a prefix resets every setting below it
		for k := range c.transient {
			if k == n || strings.HasPrefix(k, n+".") {
				delete(c.transient, k)
			}
		}
		for k := range c.persistent {
			if k == n || strings.HasPrefix(k, n+".") {
				delete(c.persistent, k)
			}
		}
		c.logLocked("RESET GLOBAL %q", n)
	}
	c.stepLocked(c.now())
	return nil
}

// settingsObjectLocked renders the effective settings as sys.cluster's nested
// settings object.
func (c *Cluster) settingsObjectLocked() map[string]any {
	flat := map[string]any{}
	for k, v := range settingDefaults {
		flat[k] = v
	}
	for k, v := range c.persistent {
		flat[k] = v
	}
	for k, v := range c.transient {
		flat[k] = v
	}
	root := map[string]any{}
	for k, v := range flat {
		parts := strings.Split(k, ".")
		m := root
		for _, p := range parts[:len(parts)-1] {
			sub, ok := m[p].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[p] = sub
			}
			m = sub
		}
		m[parts[len(parts)-1]] = v
	}
	return root
}
