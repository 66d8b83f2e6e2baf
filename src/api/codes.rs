//! The seed API's error table, codes 0..95: one enum used everywhere, no ad-hoc codes.
//!
//! Generated once from the seed's table (code, constant, Russian text); codes the seed marks obsolete or
//! leaves without a text got a short Russian text written here.

macro_rules! error_codes {
    ($($variant:ident = $code:literal, $name:literal, $text:literal;)*) => {
        /// A response code of the API envelope (`response_code`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum ErrorCode { $($variant = $code,)* }

        impl ErrorCode {
            /// Every code in ascending order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The numeric code sent as `response_code`.
            pub fn code(self) -> u16 { self as u16 }

            /// The seed's text constant, e.g. `invalid_fields`.
            pub fn name(self) -> &'static str { match self { $(ErrorCode::$variant => $name,)* } }

            /// The Russian description shown to the cashier.
            pub fn text(self) -> &'static str { match self { $(ErrorCode::$variant => $text,)* } }

            /// The code for a number, if the table has it.
            pub fn from_code(code: u16) -> Option<ErrorCode> { match code { $($code => Some(ErrorCode::$variant),)* _ => None } }
        }
    };
}

error_codes! {
    Ok = 0, "ok", "операция выполнена успешно";
    UnknownResult = 1, "unknown_result", "неизвестная ошибка";
    InvalidFields = 2, "invalid_fields", "поля запроса заполнены некорректно";
    MethodNotFound = 3, "method_not_found", "метод не существует";
    MethodExecutionException = 4, "method_execution_exception", "неизвестная ошибка при выполнении метода";
    InvalidAccessCode = 5, "invalid_access_code", "некорректный пин-код или токен";
    SettingsSaveError = 6, "settings_save_error", "ошибка сохранения настроек";
    KkmSaveError = 7, "kkm_save_error", "ошибка сохранения кассы";
    KkmReginfoRequestError = 8, "kkm_reginfo_request_error", "ошибка запроса рег.данных кассы";
    InvalidKkmVendorId = 9, "invalid_kkm_vendor_id", "некорректный ЗНМ (серийный номер кассы)";
    KkmDeleteError = 10, "kkm_delete_error", "ошибка удаления кассы";
    AccessCodeIncorrect = 11, "access_code_incorrect", "задан некорректный пин-код";
    AccessCodeAlreadyUsed = 12, "access_code_already_used", "пин-код / email уже используется";
    OperatorSaveError = 13, "operator_save_error", "ошибка сохранения оператора";
    OperatorUpdateError = 14, "operator_update_error", "ошибка изменения оператора";
    InvalidOperatorCode = 15, "invalid_operator_code", "некорректный ID оператора";
    OperatorDeleteError = 16, "operator_delete_error", "ошибка удаления оператора";
    InvalidKkmCredentials = 17, "invalid_kkm_credentials", "некорректные рег.данные кассы";
    KkmInOfflineModeTooLong = 18, "kkm_in_offline_mode_too_long", "касса слишком долго находится в автономном режиме";
    DbError = 19, "db_error", "внутреннняя ошибка БД";
    ConnectionError = 20, "connection_error", "ошибка связи с сервером ОФД";
    ProtobufSerializationError = 21, "protobuf_serialization_error", "ошибка сериализации данных";
    SaveError = 22, "save_error", "ошибка сохранения";
    SendError = 23, "send_error", "ошибка отправки";
    ReceiveError = 24, "receive_error", "ошибка приёма";
    KkmVendorIdMismatch = 25, "kkm_vendor_id_mismatch", "ЗНМ кассы не совпадает";
    KkmShiftStateIsOpened = 26, "kkm_shift_state_is_opened", "смена кассы открыта";
    KkmStatusIsReadyToUse = 27, "kkm_status_is_ready_to_use", "касса готова к работе";
    ProtobufDeserializationError = 28, "protobuf_deserialization_error", "ошибка десериализации данных";
    OperationFailed = 29, "operation_failed", "операция завершилась неудачей";
    ForcedOfflineMode = 30, "forced_offline_mode", "принудительный автономный режим";
    ShiftDurationIsTooLong = 31, "shift_duration_is_too_long", "продолжительность смены превысила 24 часа";
    InvalidShiftNumber = 32, "invalid_shift_number", "некорректный номер смены";
    ReportNotFound = 33, "report_not_found", "отчёт не найден";
    InvalidReportType = 34, "invalid_report_type", "некооректный тип отчёта";
    KkmShiftStateIsNotOpened = 35, "kkm_shift_state_is_not_opened", "смена кассы не открыта";
    InvalidLocalDate = 36, "invalid_local_date", "установлена некорректная дата";
    OperationNotFound = 37, "operation_not_found", "операция не найдена";
    KkmAddressIsAlreadyInUse = 38, "kkm_address_is_already_in_use", "адрес кассы уже используется";
    InvalidOperatorRole = 39, "invalid_operator_role", "некорректная роль оператора";
    KkmOfdIdIsAlreadyInUse = 40, "kkm_ofd_id_is_already_in_use", "ID кассы в ОФД уже используется";
    KkmVendorIdIsAlreadyInUse = 41, "kkm_vendor_id_is_already_in_use", "ЗНМ кассы уже используется";
    InvalidKkmToken = 42, "invalid_kkm_token", "некорректный токен кассы";
    TransactionNotFound = 43, "transaction_not_found", "транзакция не найдена";
    ItemsListUndefined = 44, "items_list_undefined", "список товаров не задан";
    ItemsListIsEmpty = 45, "items_list_is_empty", "список товаров пуст";
    ItemCommodityUndefined = 46, "item_commodity_undefined", "товар не указан";
    ItemQuantityIsIncorrect = 47, "item_quantity_is_incorrect", "значение количества в позиции указано некорректно";
    ItemDiscountUndefined = 48, "item_discount_undefined", "скидка на позицию не описана";
    ItemMarkupUndefined = 49, "item_markup_undefined", "наценка на позицию не описана";
    UnknownItemType = 50, "unknown_item_type", "неизвестный тип элемента";
    AmountsUndefined = 51, "amounts_undefined", "итоги чека не заданы";
    AmountsTotalIsIncorrect = 52, "amounts_total_is_incorrect", "итоговая сумма некорректна";
    MoneyValueIsNegative = 53, "money_value_is_negative", "сумма наличных отрицательна";
    SumToPayIsIncorrect = 54, "sum_to_pay_is_incorrect", "сумма к оплате некорректна";
    CardSumIsGreaterThanTotal = 55, "card_sum_is_greater_than_total", "сумма оплаты картой больше итоговой";
    PaidSumIsIncorrect = 56, "paid_sum_is_incorrect", "оплаченная сумма некорректна";
    PaidSumIsLessThanTotal = 57, "paid_sum_is_less_than_total", "оплаченная сумма меньше итоговой";
    NotEnoughCash = 58, "not_enough_cash", "недостаточно наличных в кассе";
    DiscountSumMustBeLessThanTotal = 59, "discount_sum_must_be_less_than_total", "сумма скидки должна быть меньше итоговой суммы";
    TaxationTypeIsIncorrect = 60, "taxation_type_is_incorrect", "некорректный вид налогообложения";
    InvalidKkmOfdId = 61, "invalid_kkm_ofd_id", "некорректный ID кассы из ОФД";
    KkmIsBlocked = 62, "kkm_is_blocked", "касса заблокирована";
    DiscountSumIsNegative = 63, "discount_sum_is_negative", "сумма скидки отрицательна";
    MarkupSumIsNegative = 64, "markup_sum_is_negative", "сумма наценки отрицательна";
    DiscountAndMarkupAreMutuallyExclusive = 65, "discount_and_markup_are_mutually_exclusive", "скидка и наценка являются взаимоисключающими";
    OperationInProgress = 66, "operation_in_progress", "операция выполняется";
    KkmHasOfflineQueue = 67, "kkm_has_offline_queue", "касса содержит автономную очередь";
    KkmLockedDueToValuesConflict = 68, "kkm_locked_due_to_values_conflict", "касса заблокирована из-за расхождения счётчиков";
    KkmIsBusyTooLong = 69, "kkm_is_busy_too_long", "Касса до сих пор выполняет предыдущую операцию";
    KkmIsNotInitialized = 70, "kkm_is_not_initialized", "касса не инициализирована";
    KkmAccessDenied = 71, "kkm_access_denied", "у пользователя нет доступа к кассе";
    KkmInvalidBindings = 72, "kkm_invalid_bindings", "у пользователя нет прав на использование кассы";
    SourceObjectDeserializationError = 73, "source_object_deserialization_error", "ошибка десериализации объекта из запроса";
    KkmPerOwnerLimitExceed = 74, "kkm_per_owner_limit_exceed", "превышен лимит количества касс для пользователя";
    KkmOperatorsLimitExceed = 75, "kkm_operators_limit_exceed", "превышен лимит количества пользователей на кассу";
    KkmShiftIsNotClosed = 76, "kkm_shift_is_not_closed", "касса с незакрытой сменой";
    SameTaxpayerAndCustomer = 77, "same_taxpayer_and_customer", "ИИН (БИН) продавца и покупателя одинаковые";
    InvalidOfdUid = 78, "invalid_ofd_uid", "некорректный идентификатор ОФД";
    LicensePeriodExpired = 79, "license_period_expired", "срок действия лицензии истёк";
    LicenseActivationError = 80, "license_activation_error", "ошибка активации лицензии";
    MeasureUnitCodeIsEmpty = 81, "measure_unit_code_is_empty", "код единицы измерения не может быть пустым";
    SectionCodeIsEmpty = 82, "section_code_is_empty", "код секции (номер отдела) не может быть пустым";
    InvalidKkmOfd = 83, "invalid_kkm_ofd", "задан некорректный ОФД для кассы";
    InvalidOfdResponse = 84, "invalid_ofd_response", "ОФД вернул сообщение об ошибке";
    InvalidLicenseFile = 85, "invalid_license_file", "некорректный файл лицензии";
    DbErrorDuplicates = 86, "db_error_duplicates", "найдено больше одной записи";
    InvalidActivationCode = 87, "invalid_activation_code", "некорректный код активации";
    ItemsTaxesAndTicketTaxesAreMutuallyExclusive = 88, "items_taxes_and_ticket_taxes_are_mutually_exclusive", "НДС на позицию и на весь чек являются взаимоисключающими";
    TaxPercentageIsAlreadyPresent = 89, "tax_percentage_is_already_present", "Налог с определённым процентом может встречаться не более одного раза";
    InvalidLicenseKey = 90, "invalid_license_key", "некорректный лицензионный ключ";
    OfdListIsEmpty = 91, "ofd_list_is_empty", "лицензия не содержит ни одного ОФД";
    LicenseSuspended = 92, "license_suspended", "действие лицензии приостановлено";
    LicenseOnlineCheckError = 93, "license_online_check_error", "ошибка онлайн-проверки лицензии";
    ItemPriceIsIncorrect = 94, "item_price_is_incorrect", "значение цены для позиции указано некорректно";
    ItemSumIsIncorrect = 95, "item_sum_is_incorrect", "значение суммы для позиции указано некорректно";
}
