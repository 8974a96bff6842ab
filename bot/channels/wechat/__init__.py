"""The WeChat Official Account channel: protocol (pure functions), api (customer-service
messages, access token), config, render (replies as WeChat text) and channel (the Rasa input
channel). Nothing is imported here: credentials.yml names `bot.channels.wechat.channel.WeChatInput`,
and the protocol functions load without Rasa (the simulator uses them).
"""
