package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Failure is the JSON body POSTed to the webhook when a scheduled run fails for good.
type Failure struct {
	Job        string    `json:"job"`
	AsOf       string    `json:"as_of"`
	RunID      string    `json:"run_id"`
	Error      string    `json:"error"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
}

// Notifier POSTs failures to a webhook. Its URL may carry a secret token: it never appears
// in logs or errors.
type Notifier struct {
	url     string
	timeout time.Duration
	client  *http.Client
	// RetryWait is the pause before the one retry of a failed POST.
	RetryWait time.Duration
}

// NewNotifier returns a notifier for webhookURL; each POST is bounded by timeout. A nil
// client means http.DefaultClient's transport.
func NewNotifier(webhookURL string, timeout time.Duration, client *http.Client) *Notifier {
	if client == nil {
		client = &http.Client{}
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &Notifier{url: webhookURL, timeout: timeout, client: client, RetryWait: time.Second}
}

// notify sends f, retrying once; failures are logged, never returned. A nil notifier does
// nothing.
func (n *Notifier) notify(log *slog.Logger, f Failure) {
	if n == nil || n.url == "" {
		return
	}
	body, err := json.Marshal(f)
	if err != nil {
		log.Error("failure notification not sent", "run_id", f.RunID, "error", err.Error())
		return
	}
	for attempt := 1; ; attempt++ {
		err = n.post(body)
		if err == nil {
			log.Info("failure notification sent", "job", f.Job, "as_of", f.AsOf, "run_id", f.RunID)
			return
		}
		if attempt == 2 {
			log.Error("failure notification not sent", "job", f.Job, "run_id", f.RunID, "error", err.Error(), "attempts", attempt)
			return
		}
		log.Warn("failure notification failed, retrying once", "run_id", f.RunID, "error", err.Error())
		time.Sleep(n.RetryWait)
	}
}

// post sends one request; its error never includes the URL.
func (n *Notifier) post(body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return errors.New("webhook: cannot build the request (check notify.webhook_url)")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "segpipe")
	resp, err := n.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error quotes the URL, token and all
		}
		return fmt.Errorf("webhook POST: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook POST: HTTP %d", resp.StatusCode)
	}
	return nil
}
