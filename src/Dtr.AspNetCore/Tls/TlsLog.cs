using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Tls;

/// <summary>Log messages of the HTTPS certificate, event ids 3600–3699.</summary>
internal static partial class TlsLog
{
    [LoggerMessage(EventId = 3600, Level = LogLevel.Information, Message = "TLS certificate {Subject} (SHA-256 {Thumbprint}, expires {NotAfter:u}) loaded from {Path}")]
    public static partial void CertificateLoaded(ILogger logger, string subject, string thumbprint, DateTime notAfter, string path);

    [LoggerMessage(EventId = 3601, Level = LogLevel.Information, Message = "Self-signed TLS certificate {Subject} (SHA-256 {Thumbprint}) generated and saved to {Path}")]
    public static partial void CertificateGenerated(ILogger logger, string subject, string thumbprint, string path);

    [LoggerMessage(EventId = 3602, Level = LogLevel.Information, Message = "TLS certificate replaced by {UserName}: now {Subject} (SHA-256 {Thumbprint}, expires {NotAfter:u}), saved to {Path}")]
    public static partial void CertificateReplaced(ILogger logger, string userName, string subject, string thumbprint, DateTime notAfter, string path);

    [LoggerMessage(EventId = 3603, Level = LogLevel.Warning, Message = "TLS certificate {Subject} (SHA-256 {Thumbprint}) expired at {NotAfter:u}; clients will reject it")]
    public static partial void CertificateExpired(ILogger logger, string subject, string thumbprint, DateTime notAfter);

    [LoggerMessage(EventId = 3610, Level = LogLevel.Information, Message = "Client certificate {Subject} (SHA-256 {Thumbprint}) from {ClientAddress} rejected: {Reason}")]
    public static partial void ClientCertificateRejected(ILogger logger, string subject, string thumbprint, string clientAddress, string reason);

    [LoggerMessage(EventId = 3611, Level = LogLevel.Information, Message = "Client certificate authority {Subject} (SHA-256 {Thumbprint}, expires {NotAfter:u}) generated and stored in the metadata database")]
    public static partial void ClientAuthorityGenerated(ILogger logger, string subject, string thumbprint, DateTime notAfter);

    [LoggerMessage(EventId = 3612, Level = LogLevel.Information, Message = "Client certificate authority {Subject} (SHA-256 {Thumbprint}, expires {NotAfter:u}) loaded")]
    public static partial void ClientAuthorityLoaded(ILogger logger, string subject, string thumbprint, DateTime notAfter);

    [LoggerMessage(EventId = 3613, Level = LogLevel.Information, Message = "Client bundle for {User} issued by {UserName}: certificate serial {SerialNumber} (SHA-256 {Thumbprint}), expires {NotAfter:u}")]
    public static partial void ClientBundleIssued(ILogger logger, string user, string userName, string serialNumber, string thumbprint, DateTime notAfter);

    [LoggerMessage(EventId = 3614, Level = LogLevel.Information, Message = "TLS certificate {Subject} (SHA-256 {Thumbprint}, expires {NotAfter:u}) applied from the metadata database")]
    public static partial void SharedCertificateApplied(ILogger logger, string subject, string thumbprint, DateTime notAfter);

    [LoggerMessage(EventId = 3615, Level = LogLevel.Warning, Message = "Reading the shared TLS certificate from the metadata database failed ({FailureCount} failures in a row); retrying every {IntervalSeconds} seconds")]
    public static partial void SharedCertificateRefreshFailed(ILogger logger, int failureCount, double intervalSeconds, Exception exception);
}
