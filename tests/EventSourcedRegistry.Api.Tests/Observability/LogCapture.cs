using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EventSourcedRegistry.Api.Tests.Observability;

/// <summary>A logger provider that keeps each entry with the scopes it was written in, as a scope-aware sink (the JSON console) sees them.</summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public sealed record Entry(string Category, string Message, IReadOnlyList<object?> Scopes)
    {
        public IEnumerable<KeyValuePair<string, object?>> ScopeValues =>
            Scopes.OfType<IEnumerable<KeyValuePair<string, object?>>>().SelectMany(pairs => pairs);
    }

    public ConcurrentQueue<Entry> Entries { get; } = new();

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = new List<object?>();
            capture._scopes.ForEachScope((scope, list) => list.Add(scope), scopes);
            capture.Entries.Enqueue(new Entry(category, formatter(state, exception), scopes));
        }
    }
}
