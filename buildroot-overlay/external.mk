include $(sort $(wildcard $(BR2_EXTERNAL_TELBOX_PATH)/package/*/*.mk))
