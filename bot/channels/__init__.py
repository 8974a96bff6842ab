"""Custom Rasa input channels (referenced by class path from credentials.yml).

Nothing is imported here on purpose: Rasa imports each channel by its full path
(e.g. `bot.channels.wechat.channel.WeChatInput`), so a channel's dependencies (wechatpy for WeChat)
are only loaded when credentials.yml enables that channel.
"""
