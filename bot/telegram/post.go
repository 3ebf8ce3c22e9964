package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/datosbot/datosbot"
)

// Post sends a message into a Telegram chat ("telegram:<chat_id>"). It
// returns *datosbot.RateLimitError on a flood wait (429 retry_after),
// *datosbot.ChannelMovedError when a group became a supergroup, and
// *datosbot.PermanentError when the bot can no longer post there.
func (a *Adapter) Post(ctx context.Context, m datosbot.Message) error {
	if m.Channel.Platform() != datosbot.Telegram {
		return &datosbot.PermanentError{Channel: m.Channel, Reason: "not a telegram channel"}
	}
	chatID, err := strconv.ParseInt(m.Channel.Local(), 10, 64)
	if err != nil {
		return &datosbot.PermanentError{Channel: m.Channel, Reason: "invalid telegram chat id"}
	}
	from := 0
	if m.Key != "" {
		a.mu.Lock()
		from = a.progress[m.Key]
		a.mu.Unlock()
	}
	sent, err := a.sendFrom(ctx, chatID, 0, m.Reply, from)
	if m.Key != "" {
		a.recordProgress(m.Key, sent, err)
	}
	return err
}

// maxProgress bounds the memory of partly sent posts.
const maxProgress = 10000

// recordProgress remembers how many parts of a long post went out before
// a transient failure, so that the retry of the same Message.Key does not
// repeat them. It is per process: a retry on another replica may repeat
// the first parts of a long post.
func (a *Adapter) recordProgress(key string, sent int, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var pe *datosbot.PermanentError
	var moved *datosbot.ChannelMovedError
	if err == nil || sent == 0 || errors.As(err, &pe) || errors.As(err, &moved) {
		delete(a.progress, key)
		return
	}
	if a.progress == nil || len(a.progress) >= maxProgress {
		a.progress = map[string]int{}
	}
	a.progress[key] = sent
}

// sendFrom renders r and sends it in as many messages as it takes, from
// part index from on; the buttons go with the last part. replyTo, when not
// zero, is the message the first part answers. It returns the index of the
// first part not sent.
func (a *Adapter) sendFrom(ctx context.Context, chatID int64, replyTo int, r datosbot.Reply, from int) (int, error) {
	parts := render(r, maxMessageLen)
	kb := keyboard(r)
	if len(parts) == 0 {
		if kb == nil {
			return 0, nil
		}
		parts = []string{"Opciones:"}
	}
	for i := from; i < len(parts); i++ {
		text := parts[i]
		p := &tgbot.SendMessageParams{
			ChatID:    chatID,
			Text:      text,
			ParseMode: models.ParseModeHTML,
		}
		if i == 0 && replyTo != 0 {
			p.ReplyParameters = &models.ReplyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
		}
		if i == len(parts)-1 && kb != nil {
			p.ReplyMarkup = kb
		}
		if _, err := a.api.SendMessage(ctx, p); err != nil {
			return i, a.classify(chatRef(chatID), err)
		}
	}
	return len(parts), nil
}

// permanentReasons are Bot API error descriptions after which posting to
// the chat can never succeed until someone acts (re-adds the bot, grants
// it rights).
var permanentReasons = []string{
	"bot was kicked",
	"bot was blocked",
	"chat not found",
	"bot is not a member",
	"user is deactivated",
	"have no rights to send",
	"not enough rights",
	"need administrator rights",
	"chat_write_forbidden",
	"group chat was deactivated",
	"peer_id_invalid",
}

// classify maps a Bot API error to the delivery errors of the bot package,
// with the token redacted from anything else.
func (a *Adapter) classify(ch datosbot.ChannelID, err error) error {
	var tooMany *tgbot.TooManyRequestsError
	if errors.As(err, &tooMany) {
		wait := time.Duration(tooMany.RetryAfter) * time.Second
		if wait <= 0 {
			wait = time.Second
		}
		return &datosbot.RateLimitError{RetryAfter: wait}
	}
	var migrate *tgbot.MigrateError
	if errors.As(err, &migrate) {
		return &datosbot.ChannelMovedError{From: ch, To: chatRef(int64(migrate.MigrateToChatID))}
	}
	msg := a.redact.String(err.Error())
	if errors.Is(err, tgbot.ErrorForbidden) || errors.Is(err, tgbot.ErrorBadRequest) || errors.Is(err, tgbot.ErrorNotFound) {
		low := strings.ToLower(msg)
		for _, reason := range permanentReasons {
			if strings.Contains(low, reason) {
				return &datosbot.PermanentError{Channel: ch, Reason: reason}
			}
		}
	}
	return fmt.Errorf("telegram: post to %s: %w", ch, a.redact.Error(err))
}

// DiagnoseChannels diagnoses the Telegram channels among chs; its shape
// fits commands.Config.Diagnose.
func (a *Adapter) DiagnoseChannels(ctx context.Context, _ string, chs []datosbot.ChannelID) []string {
	var out []string
	for _, ch := range chs {
		if d := a.Diagnose(ctx, ch); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// Diagnose checks the bot's membership in a Telegram group and returns, in
// Spanish, what keeps it from working there and how to fix it; "" when all
// is well or chat is not a Telegram group.
func (a *Adapter) Diagnose(ctx context.Context, chat datosbot.ChannelID) string {
	if chat.Platform() != datosbot.Telegram {
		return ""
	}
	chatID, err := strconv.ParseInt(chat.Local(), 10, 64)
	if err != nil || chatID > 0 {
		return "" // a private chat: nothing to check
	}
	m, err := a.api.GetChatMember(ctx, &tgbot.GetChatMemberParams{ChatID: chatID, UserID: a.me.ID})
	if err != nil {
		switch e := a.classify(chat, err).(type) {
		case *datosbot.PermanentError:
			return "El bot ya no está en este grupo de Telegram (" + e.Reason + "). Agréguelo de nuevo al grupo para recibir recordatorios y campañas."
		case *datosbot.ChannelMovedError:
			return "Este grupo de Telegram se convirtió en supergrupo y cambió de identificador. Escriba /canal vincular <clave> en el grupo para actualizarlo."
		}
		a.log.Warn("telegram getChatMember failed", "chat", chat, "err", a.redact.Error(err))
		return "No pude verificar al bot en este grupo de Telegram. Intente de nuevo en unos minutos."
	}
	switch m.Type {
	case models.ChatMemberTypeLeft:
		return "El bot salió de este grupo de Telegram. Agréguelo de nuevo para recibir recordatorios y campañas."
	case models.ChatMemberTypeBanned:
		return "El bot fue expulsado de este grupo de Telegram. Un administrador debe quitarlo de la lista de expulsados y agregarlo de nuevo."
	case models.ChatMemberTypeRestricted:
		if m.Restricted != nil && !m.Restricted.CanSendMessages {
			return "El bot no tiene permiso para enviar mensajes en este grupo de Telegram. Un administrador debe permitirle enviar mensajes."
		}
		if m.Restricted != nil && !m.Restricted.IsMember {
			return "El bot ya no es miembro de este grupo de Telegram. Agréguelo de nuevo al grupo."
		}
	case models.ChatMemberTypeMember:
		if !a.me.CanReadAllGroupMessages {
			return "El bot tiene activo el modo de privacidad y no es administrador: en este grupo solo recibe comandos escritos como /comando@" + a.me.Username +
				". Para que reciba todos los comandos, hágalo administrador del grupo o desactive la privacidad con BotFather (/setprivacy → Disable) y vuelva a agregarlo."
		}
	}
	return ""
}
