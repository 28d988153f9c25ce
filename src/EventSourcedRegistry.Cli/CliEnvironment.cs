using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
using Spectre.Console;

namespace EventSourcedRegistry.Cli;

/// <summary>What a command writes to and how it reaches the server; tests swap in a test server and string writers.</summary>
public sealed class CliEnvironment
{
    public const string ServerVariable = "ESR_SERVER";
    public const string DefaultServer = "http://localhost:5000";
    public const string ApiKeyVariable = RegistryClient.ApiKeyVariable;
    public const string WorkspaceVariable = RegistryClient.WorkspaceVariable;

    public required IAnsiConsole Console { get; init; }

    /// <summary>Raw output for scripts (<c>--output json</c>, exports to stdout): never wrapped or styled.</summary>
    public required TextWriter Out { get; init; }

    public required TextWriter Error { get; init; }

    /// <summary>Builds the client for a server address, the API key to send (null: none given) and the workspace (null: default).</summary>
    public required Func<Uri, string?, string?, RegistryClient> ClientFor { get; init; }

    /// <summary>The server when <c>--server</c> is not given.</summary>
    public string? ServerFromEnvironment { get; init; }

    /// <summary>The API key when <c>--api-key</c> is not given.</summary>
    public string? ApiKeyFromEnvironment { get; init; }

    /// <summary>The workspace when <c>--workspace</c> is not given.</summary>
    public string? WorkspaceFromEnvironment { get; init; }

    public static CliEnvironment ForConsole(IAnsiConsole console) => new()
    {
        Console = console,
        Out = System.Console.Out,
        Error = System.Console.Error,
        ClientFor = (server, apiKey, workspace) => new RegistryClient(new RegistryClientOptions { Endpoint = server, ApiKey = apiKey, Workspace = workspace }),
        ServerFromEnvironment = Environment.GetEnvironmentVariable(ServerVariable),
        ApiKeyFromEnvironment = Environment.GetEnvironmentVariable(ApiKeyVariable),
        WorkspaceFromEnvironment = Environment.GetEnvironmentVariable(WorkspaceVariable),
    };
}
