"""MQTT: the mqtt-broker, mqtt-out and mqtt-in node types, the link under them (gmqtt,
adapted) and the durable outbox of QoS 1/2 messages (docs/mqtt.md)."""
