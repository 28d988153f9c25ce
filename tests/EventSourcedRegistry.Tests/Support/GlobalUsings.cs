// The product's Lifecycle class shares its name with its namespace (and with this project's Lifecycle test
// folder), so tests refer to it by an alias that cannot be mistaken for either namespace.
global using LifecycleGraph = EventSourcedRegistry.Lifecycle.Lifecycle;
