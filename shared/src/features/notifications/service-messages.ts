// The bodies of the chat and push services, each as its documentation describes it: Telegram's
// sendMessage (HTML parse mode), a Teams workflow webhook carrying an Adaptive Card, a Mattermost
// incoming webhook, ntfy's JSON publish, and Gotify's message. Each is rendered from the event body,
// with names coming from operators escaped for the service's markup.
import { detailLines, isBadNews, type EventBody } from './messages.js';

/** https://core.telegram.org/bots/api#sendmessage */
export function telegramMessage(body: EventBody, chatId: string) {
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const lines = detailLines({ ...body, url: null }).map(escape);
  const link = body.url ? `\n<a href="${escape(body.url).replace(/"/g, '&quot;')}">Open in coffre</a>` : '';
  return {
    // A numeric id is sent as a number, an @channel name as a string: both as the Bot API takes them.
    chat_id: /^-?\d+$/.test(chatId) ? Number(chatId) : chatId,
    text: `${isBadNews(body.event) ? '❌' : '✅'} <b>${escape(body.title)}</b>\n${lines.join('\n')}${link}`.slice(0, 4096),
    parse_mode: 'HTML',
    link_preview_options: { is_disabled: true },
  };
}

/**
 * A Teams workflow ("Post to a channel when a webhook request is received") takes a message whose
 * attachment is an Adaptive Card: https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/cards-reference#adaptive-card
 */
export function teamsMessage(body: EventBody) {
  const bad = isBadNews(body.event);
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: body.title, weight: 'Bolder', size: 'Medium', wrap: true, color: bad ? 'Attention' : 'Good' },
            // Adaptive Cards read Markdown in TextBlocks: each line is its own block, so nothing joins lines into markup.
            ...detailLines({ ...body, url: null }).map((line) => ({ type: 'TextBlock', text: line, wrap: true, spacing: 'None' })),
          ],
          ...(body.url ? { actions: [{ type: 'Action.OpenUrl', title: 'Open in coffre', url: body.url }] } : {}),
        },
      },
    ],
  };
}

/** https://developers.mattermost.com/integrate/webhooks/incoming/ */
export function mattermostMessage(body: EventBody, options: { channel?: string | null; username?: string | null }) {
  // Markdown: a name holding * _ ` [ ] or @ must not format text or mention anyone.
  const escape = (text: string) => text.replace(/([\\`*_[\]#>|~])/g, '\\$1').replace(/@/g, '@\u200b');
  const lines = detailLines({ ...body, url: null }).map(escape);
  const link = body.url ? `\n[Open in coffre](${body.url})` : '';
  return {
    text: `${isBadNews(body.event) ? ':x:' : ':white_check_mark:'} **${escape(body.title)}**\n${lines.join('\n')}${link}`,
    username: options.username ?? 'coffre',
    ...(options.channel ? { channel: options.channel } : {}),
  };
}

/** https://docs.ntfy.sh/publish/#publish-as-json: posted to the server's root URL. */
export function ntfyMessage(body: EventBody, topic: string) {
  const bad = isBadNews(body.event);
  return {
    topic,
    title: body.title,
    message: detailLines({ ...body, url: null }).join('\n'),
    priority: bad ? 4 : 3,
    tags: [bad ? 'rotating_light' : 'white_check_mark', 'coffre'],
    ...(body.url ? { click: body.url } : {}),
  };
}

/** https://gotify.net/docs/pushmsg: POST /message?token=<app token>. */
export function gotifyMessage(body: EventBody) {
  return {
    title: body.title,
    message: detailLines(body).join('\n'),
    priority: isBadNews(body.event) ? 8 : 4,
  };
}
