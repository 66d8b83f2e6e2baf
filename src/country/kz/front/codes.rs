//! The API's error table: the seed's codes 0..95 and the vendor's newer 96..98, one enum used everywhere,
//! no ad-hoc codes.
//!
//! Generated once from the seed's table (code, constant, Russian text); codes the seed marks obsolete or
//! leaves without a text got a short Russian text written here. The Kazakh texts were written here.

macro_rules! error_codes {
    ($($variant:ident = $code:literal, $name:literal, $text:literal, $kk:literal;)*) => {
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

            /// The Kazakh description, for `Accept-Language: kk`.
            pub fn text_kk(self) -> &'static str { match self { $(ErrorCode::$variant => $kk,)* } }

            /// The HTTP status the vendor's server answers with this code (the body is the envelope either way).
            pub fn http_status(self) -> u16 {
                use ErrorCode as C;
                match self {
                    C::Ok => 200,
                    C::InvalidFields | C::AccessCodeIncorrect | C::InvalidOperatorCode | C::InvalidKkmCredentials
                    | C::InvalidKkmOfdId => 400,
                    C::KkmAccessDenied | C::KkmInvalidBindings | C::KkmPerOwnerLimitExceed
                    | C::KkmOperatorsLimitExceed => 401,
                    C::InvalidAccessCode => 403,
                    C::MethodNotFound => 404,
                    _ => 500,
                }
            }

            /// The code for a number, if the table has it.
            pub fn from_code(code: u16) -> Option<ErrorCode> { match code { $($code => Some(ErrorCode::$variant),)* _ => None } }
        }
    };
}

error_codes! {
    Ok = 0, "ok", "операция выполнена успешно", "операция сәтті орындалды";
    UnknownResult = 1, "unknown_result", "неизвестная ошибка", "белгісіз қате";
    InvalidFields = 2, "invalid_fields", "поля запроса заполнены некорректно", "сұрау өрістері қате толтырылған";
    MethodNotFound = 3, "method_not_found", "метод не существует", "әдіс жоқ";
    MethodExecutionException = 4, "method_execution_exception", "неизвестная ошибка при выполнении метода", "әдісті орындау кезінде белгісіз қате";
    InvalidAccessCode = 5, "invalid_access_code", "некорректный пин-код или токен", "пин-код немесе токен қате";
    SettingsSaveError = 6, "settings_save_error", "ошибка сохранения настроек", "баптауларды сақтау қатесі";
    KkmSaveError = 7, "kkm_save_error", "ошибка сохранения кассы", "кассаны сақтау қатесі";
    KkmReginfoRequestError = 8, "kkm_reginfo_request_error", "ошибка запроса рег.данных кассы", "кассаның тіркеу деректерін сұрау қатесі";
    InvalidKkmVendorId = 9, "invalid_kkm_vendor_id", "некорректный ЗНМ (серийный номер кассы)", "кассаның ЗНМ (сериялық нөмірі) қате";
    KkmDeleteError = 10, "kkm_delete_error", "ошибка удаления кассы", "кассаны жою қатесі";
    AccessCodeIncorrect = 11, "access_code_incorrect", "задан некорректный пин-код", "пин-код қате берілген";
    AccessCodeAlreadyUsed = 12, "access_code_already_used", "пин-код / email уже используется", "пин-код / email бұрыннан қолданылады";
    OperatorSaveError = 13, "operator_save_error", "ошибка сохранения оператора", "операторды сақтау қатесі";
    OperatorUpdateError = 14, "operator_update_error", "ошибка изменения оператора", "операторды өзгерту қатесі";
    InvalidOperatorCode = 15, "invalid_operator_code", "некорректный ID оператора", "оператор ID қате";
    OperatorDeleteError = 16, "operator_delete_error", "ошибка удаления оператора", "операторды жою қатесі";
    InvalidKkmCredentials = 17, "invalid_kkm_credentials", "некорректные рег.данные кассы", "кассаның тіркеу деректері қате";
    KkmInOfflineModeTooLong = 18, "kkm_in_offline_mode_too_long", "касса слишком долго находится в автономном режиме", "касса автономды режимде тым ұзақ тұр";
    DbError = 19, "db_error", "внутреннняя ошибка БД", "ДҚ ішкі қатесі";
    ConnectionError = 20, "connection_error", "ошибка связи с сервером ОФД", "ФДО серверімен байланыс қатесі";
    ProtobufSerializationError = 21, "protobuf_serialization_error", "ошибка сериализации данных", "деректерді сериализациялау қатесі";
    SaveError = 22, "save_error", "ошибка сохранения", "сақтау қатесі";
    SendError = 23, "send_error", "ошибка отправки", "жіберу қатесі";
    ReceiveError = 24, "receive_error", "ошибка приёма", "қабылдау қатесі";
    KkmVendorIdMismatch = 25, "kkm_vendor_id_mismatch", "ЗНМ кассы не совпадает", "кассаның ЗНМ сәйкес келмейді";
    KkmShiftStateIsOpened = 26, "kkm_shift_state_is_opened", "смена кассы открыта", "касса ауысымы ашық";
    KkmStatusIsReadyToUse = 27, "kkm_status_is_ready_to_use", "касса готова к работе", "касса жұмысқа дайын";
    ProtobufDeserializationError = 28, "protobuf_deserialization_error", "ошибка десериализации данных", "деректерді десериализациялау қатесі";
    OperationFailed = 29, "operation_failed", "операция завершилась неудачей", "операция сәтсіз аяқталды";
    ForcedOfflineMode = 30, "forced_offline_mode", "принудительный автономный режим", "мәжбүрлі автономды режим";
    ShiftDurationIsTooLong = 31, "shift_duration_is_too_long", "продолжительность смены превысила 24 часа", "ауысым ұзақтығы 24 сағаттан асты";
    InvalidShiftNumber = 32, "invalid_shift_number", "некорректный номер смены", "ауысым нөмірі қате";
    ReportNotFound = 33, "report_not_found", "отчёт не найден", "есеп табылмады";
    InvalidReportType = 34, "invalid_report_type", "некооректный тип отчёта", "есеп түрі қате";
    KkmShiftStateIsNotOpened = 35, "kkm_shift_state_is_not_opened", "смена кассы не открыта", "касса ауысымы ашылмаған";
    InvalidLocalDate = 36, "invalid_local_date", "установлена некорректная дата", "күні қате орнатылған";
    OperationNotFound = 37, "operation_not_found", "операция не найдена", "операция табылмады";
    KkmAddressIsAlreadyInUse = 38, "kkm_address_is_already_in_use", "адрес кассы уже используется", "касса мекенжайы бұрыннан қолданылады";
    InvalidOperatorRole = 39, "invalid_operator_role", "некорректная роль оператора", "оператор рөлі қате";
    KkmOfdIdIsAlreadyInUse = 40, "kkm_ofd_id_is_already_in_use", "ID кассы в ОФД уже используется", "ФДО-дағы касса ID бұрыннан қолданылады";
    KkmVendorIdIsAlreadyInUse = 41, "kkm_vendor_id_is_already_in_use", "ЗНМ кассы уже используется", "кассаның ЗНМ бұрыннан қолданылады";
    InvalidKkmToken = 42, "invalid_kkm_token", "некорректный токен кассы", "касса токені қате";
    TransactionNotFound = 43, "transaction_not_found", "транзакция не найдена", "транзакция табылмады";
    ItemsListUndefined = 44, "items_list_undefined", "список товаров не задан", "тауарлар тізімі берілмеген";
    ItemsListIsEmpty = 45, "items_list_is_empty", "список товаров пуст", "тауарлар тізімі бос";
    ItemCommodityUndefined = 46, "item_commodity_undefined", "товар не указан", "тауар көрсетілмеген";
    ItemQuantityIsIncorrect = 47, "item_quantity_is_incorrect", "значение количества в позиции указано некорректно", "позициядағы саны қате көрсетілген";
    ItemDiscountUndefined = 48, "item_discount_undefined", "скидка на позицию не описана", "позиция жеңілдігі сипатталмаған";
    ItemMarkupUndefined = 49, "item_markup_undefined", "наценка на позицию не описана", "позиция үстемесі сипатталмаған";
    UnknownItemType = 50, "unknown_item_type", "неизвестный тип элемента", "элементтің белгісіз түрі";
    AmountsUndefined = 51, "amounts_undefined", "итоги чека не заданы", "чек қорытындылары берілмеген";
    AmountsTotalIsIncorrect = 52, "amounts_total_is_incorrect", "итоговая сумма некорректна", "қорытынды сома қате";
    MoneyValueIsNegative = 53, "money_value_is_negative", "сумма наличных отрицательна", "қолма-қол ақша сомасы теріс";
    SumToPayIsIncorrect = 54, "sum_to_pay_is_incorrect", "сумма к оплате некорректна", "төленетін сома қате";
    CardSumIsGreaterThanTotal = 55, "card_sum_is_greater_than_total", "сумма оплаты картой больше итоговой", "картамен төлем сомасы қорытындыдан көп";
    PaidSumIsIncorrect = 56, "paid_sum_is_incorrect", "оплаченная сумма некорректна", "төленген сома қате";
    PaidSumIsLessThanTotal = 57, "paid_sum_is_less_than_total", "оплаченная сумма меньше итоговой", "төленген сома қорытындыдан аз";
    NotEnoughCash = 58, "not_enough_cash", "недостаточно наличных в кассе", "кассада қолма-қол ақша жеткіліксіз";
    DiscountSumMustBeLessThanTotal = 59, "discount_sum_must_be_less_than_total", "сумма скидки должна быть меньше итоговой суммы", "жеңілдік сомасы қорытынды сомадан аз болуы керек";
    TaxationTypeIsIncorrect = 60, "taxation_type_is_incorrect", "некорректный вид налогообложения", "салық салу түрі қате";
    InvalidKkmOfdId = 61, "invalid_kkm_ofd_id", "некорректный ID кассы из ОФД", "ФДО-дағы касса ID қате";
    KkmIsBlocked = 62, "kkm_is_blocked", "касса заблокирована", "касса бұғатталған";
    DiscountSumIsNegative = 63, "discount_sum_is_negative", "сумма скидки отрицательна", "жеңілдік сомасы теріс";
    MarkupSumIsNegative = 64, "markup_sum_is_negative", "сумма наценки отрицательна", "үстеме сомасы теріс";
    DiscountAndMarkupAreMutuallyExclusive = 65, "discount_and_markup_are_mutually_exclusive", "скидка и наценка являются взаимоисключающими", "жеңілдік пен үстеме бірін-бірі жоққа шығарады";
    OperationInProgress = 66, "operation_in_progress", "операция выполняется", "операция орындалуда";
    KkmHasOfflineQueue = 67, "kkm_has_offline_queue", "касса содержит автономную очередь", "кассада автономды кезек бар";
    KkmLockedDueToValuesConflict = 68, "kkm_locked_due_to_values_conflict", "касса заблокирована из-за расхождения счётчиков", "есептегіштердің сәйкессіздігіне байланысты касса бұғатталған";
    KkmIsBusyTooLong = 69, "kkm_is_busy_too_long", "Касса до сих пор выполняет предыдущую операцию", "касса әлі алдыңғы операцияны орындап жатыр";
    KkmIsNotInitialized = 70, "kkm_is_not_initialized", "касса не инициализирована", "касса инициализацияланбаған";
    KkmAccessDenied = 71, "kkm_access_denied", "у пользователя нет доступа к кассе", "пайдаланушының кассаға қолжетімділігі жоқ";
    KkmInvalidBindings = 72, "kkm_invalid_bindings", "у пользователя нет прав на использование кассы", "пайдаланушының кассаны пайдалануға құқығы жоқ";
    SourceObjectDeserializationError = 73, "source_object_deserialization_error", "ошибка десериализации объекта из запроса", "сұраудағы объектіні десериализациялау қатесі";
    KkmPerOwnerLimitExceed = 74, "kkm_per_owner_limit_exceed", "превышен лимит количества касс для пользователя", "пайдаланушыға арналған кассалар саны шегінен асты";
    KkmOperatorsLimitExceed = 75, "kkm_operators_limit_exceed", "превышен лимит количества пользователей на кассу", "кассаға арналған пайдаланушылар саны шегінен асты";
    KkmShiftIsNotClosed = 76, "kkm_shift_is_not_closed", "касса с незакрытой сменой", "кассаның ауысымы жабылмаған";
    SameTaxpayerAndCustomer = 77, "same_taxpayer_and_customer", "ИИН (БИН) продавца и покупателя одинаковые", "сатушы мен сатып алушының ЖСН (БСН) бірдей";
    InvalidOfdUid = 78, "invalid_ofd_uid", "некорректный идентификатор ОФД", "ФДО идентификаторы қате";
    LicensePeriodExpired = 79, "license_period_expired", "срок действия лицензии истёк", "лицензияның қолданылу мерзімі өтті";
    LicenseActivationError = 80, "license_activation_error", "ошибка активации лицензии", "лицензияны белсендіру қатесі";
    MeasureUnitCodeIsEmpty = 81, "measure_unit_code_is_empty", "код единицы измерения не может быть пустым", "өлшем бірлігінің коды бос болмауы керек";
    SectionCodeIsEmpty = 82, "section_code_is_empty", "код секции (номер отдела) не может быть пустым", "секция коды (бөлім нөмірі) бос болмауы керек";
    InvalidKkmOfd = 83, "invalid_kkm_ofd", "задан некорректный ОФД для кассы", "касса үшін ФДО қате берілген";
    InvalidOfdResponse = 84, "invalid_ofd_response", "ОФД вернул сообщение об ошибке", "ФДО қате туралы хабар қайтарды";
    InvalidLicenseFile = 85, "invalid_license_file", "некорректный файл лицензии", "лицензия файлы қате";
    DbErrorDuplicates = 86, "db_error_duplicates", "найдено больше одной записи", "бірден көп жазба табылды";
    InvalidActivationCode = 87, "invalid_activation_code", "некорректный код активации", "белсендіру коды қате";
    ItemsTaxesAndTicketTaxesAreMutuallyExclusive = 88, "items_taxes_and_ticket_taxes_are_mutually_exclusive", "НДС на позицию и на весь чек являются взаимоисключающими", "позицияға және бүкіл чекке ҚҚС бірін-бірі жоққа шығарады";
    TaxPercentageIsAlreadyPresent = 89, "tax_percentage_is_already_present", "Налог с определённым процентом может встречаться не более одного раза", "белгілі бір пайызы бар салық бір реттен артық кездеспеуі керек";
    InvalidLicenseKey = 90, "invalid_license_key", "некорректный лицензионный ключ", "лицензиялық кілт қате";
    OfdListIsEmpty = 91, "ofd_list_is_empty", "лицензия не содержит ни одного ОФД", "лицензияда бірде-бір ФДО жоқ";
    LicenseSuspended = 92, "license_suspended", "действие лицензии приостановлено", "лицензияның әрекеті тоқтатылған";
    LicenseOnlineCheckError = 93, "license_online_check_error", "ошибка онлайн-проверки лицензии", "лицензияны онлайн тексеру қатесі";
    ItemPriceIsIncorrect = 94, "item_price_is_incorrect", "значение цены для позиции указано некорректно", "позиция бағасы қате көрсетілген";
    ItemSumIsIncorrect = 95, "item_sum_is_incorrect", "значение суммы для позиции указано некорректно", "позиция сомасы қате көрсетілген";
    TaxValueIsIncorrect = 96, "tax_value_is_incorrect", "значение налога указано некорректно", "салық мәні қате көрсетілген";
    PaymentSumIsIncorrect = 97, "payment_sum_is_incorrect", "сумма способа оплаты указана некорректно", "төлем тәсілінің сомасы қате көрсетілген";
    PaymentTypeIsIncorrect = 98, "payment_type_is_incorrect", "тип способа оплаты указан некорректно", "төлем тәсілінің түрі қате көрсетілген";
}
