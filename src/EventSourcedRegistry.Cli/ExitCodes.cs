namespace EventSourcedRegistry.Cli;

public static class ExitCodes
{
    public const int Ok = 0;
    public const int Usage = 1;
    public const int NotFound = 2;
    public const int Conflict = 3;
    public const int Failed = 4;
    /// <summary>A stage move or alias assignment was recorded as a transition request waiting for approval (202).</summary>
    public const int AwaitingApproval = 5;

    public static int OfStatus(int status) => status switch
    {
        404 => NotFound,
        409 or 412 => Conflict,
        _ => Failed,
    };
}
