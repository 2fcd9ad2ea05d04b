using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Broker.Sessions.Redis.Internal;

/// <summary>
/// The Data Protection key ring in Redis (ASP.NET Core's own <c>RedisXmlRepository</c>) behind <see cref="RedisStoreCalls"/>:
/// while Redis is known to be unreachable a read fails at once instead of after the command timeout, and a failure is
/// <see cref="SessionStoreUnavailableException"/>, which <see cref="SessionResolver"/> recognises inside the
/// <see cref="System.Security.Cryptography.CryptographicException"/> Data Protection wraps it in: a cookie that cannot
/// be read because the ring cannot be loaded is an unreachable store (<c>unavailable</c>), not a bad cookie.
/// </summary>
internal sealed class RedisKeyRingRepository(RedisStoreCalls calls, IXmlRepository inner) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() => calls.Run(_ => inner.GetAllElements());

    public void StoreElement(XElement element, string friendlyName) =>
        calls.Run(_ =>
        {
            inner.StoreElement(element, friendlyName);
            return true;
        });
}
