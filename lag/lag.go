// Package lag evaluates the lag alerts of a daemon's links and, when an
// Alertmanager is configured, pushes them to it.
//
// The daemon measures each link's lag about once a second and hands it to
// an Evaluator together with the namespace's thresholds from the topology.
// Each severity runs its own small state machine:
//
//	inactive --lag >= threshold--> pending --still after For--> firing
//	pending  --lag < threshold---> inactive
//	firing   --lag < threshold---> resolved --next observation--> inactive
//
// Every transition is logged, the firing state is exported as the gauge
// xdrd_lag_alert_firing, and firing and resolved alerts are pushed to the
// Alertmanager in the background.
package lag

import (
	"encoding/json"
	"time"
)

// Link is one namespace replicated over one directed pair of regions: the
// unit a lag alert is about.
type Link struct {
	Namespace   string `json:"namespace"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
}

// Severity is how bad a lag alert is; each has its own threshold.
type Severity string

// The severities, in the order they are evaluated.
const (
	Warning  Severity = "warning"
	Critical Severity = "critical"
)

// severities lists every Severity in evaluation order.
var severities = [...]Severity{Warning, Critical}

// State is where one severity of one link's alert stands.
type State string

// The states of an alert.
const (
	// Inactive: lag is below the threshold, or the link was never seen.
	Inactive State = "inactive"
	// Pending: lag reached the threshold less than For ago.
	Pending State = "pending"
	// Firing: lag has stayed at or above the threshold for For.
	Firing State = "firing"
	// Resolved: the alert fired and lag fell below the threshold at the
	// last observation. It becomes Inactive at the next one.
	Resolved State = "resolved"
)

// Thresholds are a namespace's lag alert settings (topology.LagAlert). A
// threshold of zero or less disables its severity.
type Thresholds struct {
	// Warning is the lag at or above which the warning alert is pending.
	Warning time.Duration
	// Critical is the lag at or above which the critical alert is pending.
	Critical time.Duration
	// For is how long lag must stay at or above a threshold before the
	// alert fires. Zero fires at the first observation.
	For time.Duration
}

// threshold returns the threshold of severity s.
func (th Thresholds) threshold(s Severity) time.Duration {
	if s == Critical {
		return th.Critical
	}
	return th.Warning
}

// Alert is one severity of one link whose state is not Inactive, as
// /v1/status reports it.
type Alert struct {
	Link
	Severity Severity
	State    State
	// Since is when the alert entered State.
	Since time.Time
	// Lag and Cause are from the latest observation.
	Lag   time.Duration
	Cause string
}

// MarshalJSON writes the alert with its lag in seconds, as the rest of
// /v1/status does.
func (a Alert) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Namespace   string    `json:"namespace"`
		Source      string    `json:"source"`
		Destination string    `json:"destination"`
		Severity    Severity  `json:"severity"`
		State       State     `json:"state"`
		Since       time.Time `json:"since"`
		LagSeconds  float64   `json:"lag_seconds"`
		Cause       string    `json:"cause,omitempty"`
	}{
		a.Namespace, a.Source, a.Destination, a.Severity, a.State, a.Since,
		a.Lag.Seconds(), a.Cause,
	})
}
