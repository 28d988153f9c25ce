namespace EventSourcedRegistry; public static class Placeholder {}
