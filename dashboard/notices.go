package dashboard

import (
	"context"
	"time"

	"github.com/datosbot/datosbot"
)

// noticeReader is the optional Store extra that reads what the portal's
// new-data watch saw (storage.Store has it); without it the Institución
// page shows no portal notices.
type noticeReader interface {
	PortalNotices(ctx context.Context, key string, since time.Time) ([]datosbot.PortalNotice, error)
}

// maxNotices bounds the portal notices one page lists.
const maxNotices = 20

// noticeView is one portal notice as the Institución page shows it.
type noticeView struct {
	Kind, Title, URL, Resource, Changed string
	HighValue                           bool
}

// portalNotices returns the newest notices of institution key since
// since, newest first; ok is false when the store cannot read them.
func (s *Server) portalNotices(ctx context.Context, key string, since time.Time) (views []noticeView, ok bool, err error) {
	nr, ok := s.store.(noticeReader)
	if !ok {
		return nil, false, nil
	}
	ns, err := nr.PortalNotices(ctx, key, since)
	if err != nil {
		return nil, true, err
	}
	for i := len(ns) - 1; i >= 0 && len(views) < maxNotices; i-- {
		n := ns[i]
		title := n.Title
		if title == "" {
			title = n.Dataset
		}
		kind := "conjunto nuevo"
		if n.Kind == "recurso" {
			kind = "recurso nuevo o actualizado"
		}
		views = append(views, noticeView{Kind: kind, Title: title, URL: n.URL, Resource: n.ResourceName,
			Changed: s.clock(n.ChangedAt), HighValue: n.HighValue})
	}
	return views, true, nil
}
