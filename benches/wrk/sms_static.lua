-- wrk script: POST /mocks/sms/messages with one fixed body (one phone number): the request is
-- built once, so wrk spends the least of its core per request.
wrk.method = "POST"
wrk.path = "/mocks/sms/messages"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"to":"+79161234567","text":"Код подтверждения: 123456. Никому не сообщайте его."}'
