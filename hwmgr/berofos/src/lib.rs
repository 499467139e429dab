//! Berofos failover switch client.
