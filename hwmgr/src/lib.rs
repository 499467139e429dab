//! Telephony hardware knowledge for telbox: DAHDI cards, spans and the
//! files that `dahdi_cfg`, Asterisk's chan_dahdi and modprobe read.
