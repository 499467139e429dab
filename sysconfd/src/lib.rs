//! sysconfd: the engine (observe, plan, apply, verify, record) and its D-Bus face.
