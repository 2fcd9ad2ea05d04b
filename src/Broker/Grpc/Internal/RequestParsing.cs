using Google.Protobuf;
using Grpc.Core;

namespace Broker.Grpc.Internal;

/// <summary>
/// The service's methods as the server binds them: a request body the message's parser refuses (truncated, a bad
/// tag or wire type, invalid UTF-8 in a string, nesting past the recursion limit) fails its call with
/// INVALID_ARGUMENT, a client's mistake. Without this Grpc.AspNetCore takes the parser's exception for the
/// service's own fault: UNKNOWN, logged at Error (found by the gRPC fuzz, seed 1). Unknown fields are not an
/// error: the parser skips them, as protobuf requires.
/// </summary>
internal static class RequestParsing
{
    public static Method<TRequest, TResponse> Guarded<TRequest, TResponse>(Method<TRequest, TResponse> method) =>
        new(method.Type, method.ServiceName, method.Name, Guarded(method.RequestMarshaller), method.ResponseMarshaller);

    private static Marshaller<T> Guarded<T>(Marshaller<T> marshaller)
    {
        var parse = marshaller.ContextualDeserializer;
        return new Marshaller<T>(marshaller.ContextualSerializer, context =>
        {
            try
            {
                return parse(context);
            }
            catch (InvalidProtocolBufferException error)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "The request is not a valid protobuf message: " + error.Message));
            }
        });
    }
}
